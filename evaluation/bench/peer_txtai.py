"""pactkb and txtai side by side, in one run: the same model files, the same chunks, txtai's hybrid mode.

    python -m pactkb.evaluation.bench.peer_txtai [--scifact ../shared/benchmarks/scifact] \
        [--corpus ../shared/corpus/pdf | --data DATA_DIR] [--collections scifact,domain] [--json]

For each collection both systems index from scratch (pactkb: its own pipeline; txtai: the chunk texts
pactkb produced, so neither has an advantage in chunking), then answer every query; index time,
query latency and nDCG@10 are reported with their ratios. SciFact is scored at document level
(best chunk), the domain set at page level (evaluation/domain). Both use the configured model
(PACTKB_MODEL, default multilingual-e5-small) with its query and passage prefixes (txtai's
`instructions`). `--data` answers the domain set from an existing store of the shared corpus instead of
ingesting it (pactkb's index time is then not measured).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from pactkb.evaluation.beir import Collection
from pactkb.evaluation.domain import credit
from pactkb.evaluation.domain import load as load_domain
from pactkb.evaluation.metrics import evaluate, per_query, percentile
from pactkb.index.embed import prompt_prefixes, resolve_model_path
from pactkb.index.kb import KnowledgeBase
from pactkb.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
COLLECTIONS = ("scifact", "domain")  # the comparisons, in the order they run


def txtai_index(rows: list[tuple[int, str]], keep: Path | None = None) -> tuple[Any, float | None]:
    """A txtai hybrid index over (id, text) rows with pactkb's configured model files and prefixes; returns it and the
    index time. With `keep`, the index is saved there and loaded again by a later run over the same rows and model
    (its index time is then None)."""
    from txtai import Embeddings

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    settings = Settings()
    query_prefix, passage_prefix = prompt_prefixes(settings.model, settings.query_prefix, settings.passage_prefix)
    config = {
        "path": resolve_model_path(settings.model),
        "hybrid": True,
        "content": False,
        "instructions": {"query": query_prefix, "data": passage_prefix},
    }
    key = hashlib.sha256(json.dumps([config, rows]).encode()).hexdigest()
    saved = keep / key if keep else None
    emb = Embeddings(**config)
    if saved is not None and (saved / "config.json").exists():
        emb.load(str(saved))
        return emb, None
    t0 = time.perf_counter()
    emb.index([(cid, text, None) for cid, text in rows])
    elapsed = time.perf_counter() - t0
    if saved is not None:
        emb.save(str(saved))
    return emb, elapsed


def timed_search(fn, queries: list[str]) -> tuple[list[Any], list[float]]:  # noqa: ANN001
    """Results and per-query latency (ms)."""
    out, lat = [], []
    fn(queries[0])
    for q in queries:
        t0 = time.perf_counter()
        out.append(fn(q))
        lat.append((time.perf_counter() - t0) * 1000)
    return out, lat


def scifact(root: Path, work: Path, keep: Path | None = None) -> dict[str, Any]:
    """Both systems on SciFact test (document-level nDCG@10)."""
    coll = Collection(root, "test")
    qrels = coll.qrels()
    queries = coll.queries(set(qrels))
    ids = list(queries)
    kb = KnowledgeBase(Settings(data=work / "scifact"))
    _ = kb.encoder.dim
    t0 = time.perf_counter()
    kb.indexer.add_records(coll.corpus())
    pactkb_index = time.perf_counter() - t0
    chunks = kb.store.all_chunks()
    rows = [(r["id"], r["text"]) for r in chunks]
    doc_of = {r["id"]: r["doc_id"] for r in chunks}
    emb, txtai_index_s = txtai_index(rows, keep)

    def docs_of(ranked: list[tuple[int, float]]) -> dict[str, float]:
        out: dict[str, float] = {}
        for cid, _ in ranked:
            out.setdefault(doc_of[int(cid)], float(100 - len(out)))
        return out

    p_res, p_lat = timed_search(
        lambda q: kb.searcher.search(q, k=100, group_by_document=True, collapse=False, snippets=False),
        [queries[q] for q in ids],
    )
    t_res, t_lat = timed_search(lambda q: emb.search(q, 300), [queries[q] for q in ids])
    p_run = {
        q: {h.document_id: float(100 - n) for n, h in enumerate(r.results)} for q, r in zip(ids, p_res, strict=False)
    }
    t_run = {q: docs_of(r) for q, r in zip(ids, t_res, strict=False)}
    return summary(
        "scifact (test)",
        len(ids),
        len(rows),
        pactkb_index,
        txtai_index_s,
        evaluate(qrels, p_run, ("ndcg@10",))["ndcg@10"],
        evaluate(qrels, t_run, ("ndcg@10",))["ndcg@10"],
        p_lat,
        t_lat,
    )


def domain(corpus: Path, work: Path, data: Path | None = None, keep: Path | None = None) -> dict[str, Any]:
    """Both systems on the domain set (page-level nDCG@10 over the shared PDFs; `data`: an existing store of them)."""
    queries, qrels = load_domain(ROOT / "evaluation" / "domain")
    ids = [q for q in queries if qrels.get(q)]
    texts = [queries[q]["text"] for q in ids]
    kb = KnowledgeBase(Settings(data=data or work / "domain"))
    _ = kb.encoder.dim
    t0 = time.perf_counter()
    if data is None:
        kb.indexer.ingest([corpus])
    pactkb_index = time.perf_counter() - t0 if data is None else None
    chunks = kb.store.all_chunks()
    meta = {r["id"]: (r["source_name"], r["page_start"], r["page_end"]) for r in chunks}
    rows = [(r["id"], r["text"]) for r in chunks]
    emb, txtai_index_s = txtai_index(rows, keep)
    p_res, p_lat = timed_search(lambda q: kb.searcher.search(q, k=10, collapse=False, snippets=False), texts)
    t_res, t_lat = timed_search(lambda q: emb.search(q, 10), texts)

    def score(hits_per_query: list[list[tuple[str, int, int]]]) -> float:
        run, q_r = {}, {}
        for q, hits in zip(ids, hits_per_query, strict=False):
            credited = credit(hits, qrels[q])
            run[q] = {(f"r{c}" if c is not None else f"x{n}"): float(10 - n) for n, c in enumerate(credited)}
            q_r[q] = {f"r{j}": r.grade for j, r in enumerate(qrels[q])}
        return round(float(np.mean(list(per_query(q_r, run, "ndcg@10").values()))), 4)

    p_ndcg = score([[(h.file, h.page_start, h.page_end) for h in r.results] for r in p_res])
    t_ndcg = score([[meta[int(cid)] for cid, _ in r] for r in t_res])
    return summary(
        "domain set",
        len(ids),
        len(rows),
        pactkb_index,
        txtai_index_s,
        p_ndcg,
        t_ndcg,
        p_lat,
        t_lat,
        note="pactkb index time includes PDF parsing, OCR and chunking; txtai indexes pactkb's chunks"
        if data is None
        else "pactkb answers from an existing store (its index time not measured); txtai indexes its chunks",
    )


def summary(
    name: str,
    nq: int,
    chunks: int,
    p_index: float | None,
    t_index: float | None,
    p_ndcg: float,
    t_ndcg: float,
    p_lat: list[float],
    t_lat: list[float],
    note: str = "",
) -> dict[str, Any]:
    """One comparison row with ratios (pactkb ÷ txtai)."""
    p50p, p50t = percentile(p_lat, 50), percentile(t_lat, 50)
    return {
        "collection": name,
        "model": Settings().model,
        "queries": nq,
        "chunks": chunks,
        "note": note,
        "pactkb": {
            "index_s": None if p_index is None else round(p_index, 1),
            "ndcg@10": p_ndcg,
            "p50_ms": p50p,
            "p95_ms": percentile(p_lat, 95),
        },
        "txtai": {
            "index_s": None if t_index is None else round(t_index, 1),
            "ndcg@10": t_ndcg,
            "p50_ms": p50t,
            "p95_ms": percentile(t_lat, 95),
        },
        "ratio_pactkb_to_txtai": {
            "index_time": None if p_index is None or t_index is None else round(p_index / t_index, 2),
            "ndcg@10": round(p_ndcg / t_ndcg, 3),
            "p50_latency": round(p50p / p50t, 2),
        },
    }


def collections_arg(value: str) -> tuple[str, ...]:
    """The --collections value as names, in the order they run; an error naming an unknown one."""
    names = {n.strip() for n in value.split(",") if n.strip()}
    unknown = sorted(names - set(COLLECTIONS))
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown collection {unknown[0]!r} (choose from {', '.join(COLLECTIONS)})"
            if unknown
            else f"name at least one of {', '.join(COLLECTIONS)}"
        )
    return tuple(n for n in COLLECTIONS if n in names)


def main() -> None:
    """Run the chosen comparisons (both by default) and print a table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scifact", type=Path, default=SHARED / "benchmarks" / "scifact")
    ap.add_argument("--corpus", type=Path, default=SHARED / "corpus" / "pdf")
    ap.add_argument("--data", type=Path, default=None, help="An existing store of the shared corpus (domain set).")
    ap.add_argument(
        "--txtai-keep", type=Path, default=None, help="Save txtai's indexes here and reuse them for the same chunks."
    )
    ap.add_argument(
        "--collections",
        type=collections_arg,
        default=COLLECTIONS,
        help=f"Comma-separated comparisons to run, of {', '.join(COLLECTIONS)} (default: all). `domain` alone skips "
        "SciFact, whose e5 index takes txtai more than 15 minutes to build.",
    )
    ap.add_argument("--only", choices=COLLECTIONS, default=None, help="One comparison (the same as --collections X).")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    chosen = (args.only,) if args.only else args.collections
    work = Path(tempfile.mkdtemp(prefix="pactkb-peer-"))
    try:
        rows = []
        if "scifact" in chosen:
            rows.append(scifact(args.scifact, work, args.txtai_keep))
        if "domain" in chosen:
            rows.append(domain(args.corpus, work, args.data, args.txtai_keep))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(rows))
        return
    print("| collection | system | index s | nDCG@10 | p50 ms | p95 ms |\n|---|---|---|---|---|---|")
    for r in rows:
        for sysname in ("pactkb", "txtai"):
            s = r[sysname]
            print(
                f"| {r['collection']} | {sysname} | {s['index_s']} | {s['ndcg@10']} | {s['p50_ms']} | {s['p95_ms']} |"
            )
        x = r["ratio_pactkb_to_txtai"]
        print(f"| {r['collection']} | pactkb ÷ txtai | {x['index_time']} | {x['ndcg@10']} | {x['p50_latency']} | |")


if __name__ == "__main__":
    main()
