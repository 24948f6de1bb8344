"""Store statistics and a consistency check between SQLite, the FTS index and FAISS."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from pactkb.index.store import Store
from pactkb.index.vectors import VectorIndex


def stats(store: Store, dense: VectorIndex | None = None) -> dict[str, Any]:
    """Documents, pages, chunks, breakdowns by language/type/area/sensitivity, model and sizes."""
    by_lang: Counter[str] = Counter()
    by_type: Counter[str] = Counter()
    by_area: Counter[str] = Counter()
    by_sens: Counter[str] = Counter()
    for lang, dtype, areas, sens in store.document_facets():
        by_lang[lang or "unknown"] += 1
        by_type[dtype] += 1
        by_sens[sens] += 1
        for a in areas or ["(none)"]:
            by_area[a] += 1
    model, dim = store.model_info()
    db_bytes = sum(p.stat().st_size for p in store.data_dir.glob("pactkb.sqlite3*"))
    files_bytes = sum(p.stat().st_size for p in (store.data_dir / "files").glob("*") if p.is_file())
    out: dict[str, Any] = {
        **store.counts(),
        "by_language": dict(by_lang.most_common()),
        "by_type": dict(by_type.most_common()),
        "by_area": dict(by_area.most_common()),
        "by_sensitivity": dict(by_sens.most_common()),
        "model": model,
        "dim": dim,
        "pdf_text": store.pdf_text_record(),  # the PDF text extractor its PDFs were read by (None: none read yet)
        "store_bytes": db_bytes,
        "originals_bytes": files_bytes,
    }
    if dense is not None:
        out.update({"dense_index": dense.kind, "dense_vectors": dense.ntotal, "dense_bytes": dense.disk_bytes()})
    return out


def check(store: Store, dense: VectorIndex) -> list[str]:
    """Problems found (empty list = consistent): ids, FTS rows, page spans, vector sizes, originals."""
    problems: list[str] = []
    dense.sync()
    chunk_ids = store.chunk_ids()
    faiss_ids = np.sort(dense.ids())
    missing = np.setdiff1d(chunk_ids, faiss_ids)
    extra = np.setdiff1d(faiss_ids, chunk_ids)
    if len(missing):
        problems.append(f"{len(missing)} chunk(s) missing from FAISS, e.g. {missing[:5].tolist()}")
    if len(extra):
        problems.append(f"{len(extra)} FAISS id(s) without a chunk, e.g. {extra[:5].tolist()}")
    if len(faiss_ids) != len(np.unique(faiss_ids)):
        problems.append("duplicate ids in FAISS")
    fts_ids = store.fts_ids()
    if not np.array_equal(fts_ids, chunk_ids):
        problems.append(f"FTS rows ({len(fts_ids)}) do not match chunks ({len(chunk_ids)})")
    _, dim = store.model_info()
    problems += store.consistency_problems(dim)
    return problems + language_problems(store)


def language_problems(store: Store) -> list[str]:
    """Documents whose stored language is not the ISO 639-1 code pactkb stores now (stores from before values were
    checked): no language filter finds them and no stemmer applies; each value once, with up to three files."""
    from pactkb.ingest.language import language_code

    wrong: dict[str, list[str]] = {}
    for language, name in store.stored_languages():
        if language_code(language) != language:
            wrong.setdefault(language, []).append(name)
    problems = []
    for value, names in sorted(wrong.items()):
        code = language_code(value)
        should = f"should be stored as {code!r}" if code else "names no language"
        shown = ", ".join(sorted(names)[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        problems.append(
            f"{len(names)} document(s) with language {value!r}, which {should} (no language filter finds them): "
            f"{shown}; set it with PATCH /documents/{{id}} or a manifest's language column"
        )
    return problems
