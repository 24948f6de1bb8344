"""Store statistics and a consistency check between SQLite, the FTS index and FAISS."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from pactkb.index.dense import DenseIndex
from pactkb.index.store import Store


def stats(store: Store, dense: DenseIndex | None = None) -> dict[str, Any]:
    """Documents, pages, chunks, breakdowns by language/type/area/sensitivity, model and sizes."""
    con = store.conn()
    by_lang: Counter[str] = Counter()
    by_type: Counter[str] = Counter()
    by_area: Counter[str] = Counter()
    by_sens: Counter[str] = Counter()
    for lang, dtype, areas, sens in con.execute("SELECT language, doc_type, areas, sensitivity FROM documents"):
        by_lang[lang or "unknown"] += 1
        by_type[dtype] += 1
        by_sens[sens] += 1
        for a in json.loads(areas or "[]") or ["(none)"]:
            by_area[a] += 1
    model, dim = store.model_info()
    db_bytes = sum(p.stat().st_size for p in store.data_dir.glob("pactkb.sqlite3*"))
    files_bytes = sum(p.stat().st_size for p in (store.data_dir / "files").glob("*") if p.is_file())
    out: dict[str, Any] = {
        **store.counts(),
        "pages_ocr": con.execute("SELECT coalesce(sum(pages_ocr),0) FROM documents").fetchone()[0],
        "by_language": dict(by_lang.most_common()),
        "by_type": dict(by_type.most_common()),
        "by_area": dict(by_area.most_common()),
        "by_sensitivity": dict(by_sens.most_common()),
        "model": model,
        "dim": dim,
        "store_bytes": db_bytes,
        "originals_bytes": files_bytes,
    }
    if dense is not None:
        out.update({"dense_index": dense.kind, "dense_vectors": dense.ntotal, "dense_bytes": dense.disk_bytes()})
    return out


def check(store: Store, dense: DenseIndex) -> list[str]:
    """Problems found (empty list = consistent): ids, FTS rows, page spans, vector sizes, originals."""
    problems: list[str] = []
    con = store.conn()
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
    fts_ids = np.array([r[0] for r in con.execute("SELECT rowid FROM chunks_fts ORDER BY rowid")], dtype=np.int64)
    if not np.array_equal(fts_ids, chunk_ids):
        problems.append(f"FTS rows ({len(fts_ids)}) do not match chunks ({len(chunk_ids)})")
    bad_pages = con.execute(
        "SELECT count(*) FROM chunks c JOIN documents d ON d.id=c.doc_id WHERE c.page_end > d.pages OR c.page_start < 1"
    ).fetchone()[0]
    if bad_pages:
        problems.append(f"{bad_pages} chunk(s) with a page span outside their document")
    _, dim = store.model_info()
    if dim:
        bad_vec = con.execute("SELECT count(*) FROM chunks WHERE length(vector) != ?", (4 * dim,)).fetchone()[0]
        if bad_vec:
            problems.append(f"{bad_vec} chunk vector(s) with the wrong dimension")
    orphans = con.execute("SELECT count(*) FROM chunks WHERE doc_id NOT IN (SELECT id FROM documents)").fetchone()[0]
    if orphans:
        problems.append(f"{orphans} chunk(s) without a document")
    for (rel,) in con.execute("SELECT stored_path FROM documents WHERE stored_path IS NOT NULL"):
        if not (store.data_dir / rel).exists():
            problems.append(f"original file missing: {Path(rel).name}")
    integrity = con.execute("PRAGMA quick_check").fetchone()[0]
    if integrity != "ok":
        problems.append(f"SQLite quick_check: {integrity}")
    return problems
