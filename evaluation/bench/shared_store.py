"""The shared PostgreSQL store against the embedded default: ingest time, search latency (in process, p50/p95/p99 per
mode) on the embedded store, on the replica that ingested and on a second replica that started empty, how long that
replica took to catch up, and whether the rankings are identical (one encoder instance and one vector per query for
all three, so only the stores differ).

    python -m pactkb.evaluation.bench.shared_store [--corpus DIR] [--database-url URL] [--model NAME] [--json OUT]
    python -m pactkb.evaluation.bench.shared_store --beir DIR [--split test] [--cache-dir DIR] [--database-url URL]

Without --database-url a throwaway server is started with scripts/pg-throwaway (and stopped). The corpus defaults to
the bundled sample; the model to the configured default. Queries are the domain evaluation set's.

With --beir, search quality instead: the BEIR collection's cached evaluation index (embedded, as `pactkb eval` builds
it) against two replicas of a PostgreSQL store holding the same collection: nDCG@10 and the other metrics per mode side
by side, and whether every query's ranking is identical. The collection is written into PostgreSQL through replica A
with the embedded index's vectors (one encoding pass: chunks of identical text reuse them, as re-ingestion does);
replica B starts empty and copies chunks and vectors from PostgreSQL alone, so its scores are the shared store's.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from pactkb.corpus.generate import SAMPLE_DIR
from pactkb.evaluation.beir import Collection, build_index, judged_queries, run_queries
from pactkb.evaluation.bench.latency import pct
from pactkb.evaluation.bench.load import load_queries
from pactkb.evaluation.metrics import evaluate
from pactkb.index.kb import KnowledgeBase
from pactkb.index.pipeline import Embedder
from pactkb.migrations import upgrade
from pactkb.pg import scratch_database
from pactkb.settings import SEARCH_MODES, Settings

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def database(url: str | None) -> Iterator[str]:
    """A fresh database on the given server, or on a throwaway one."""
    folder = None
    if url is None:
        folder = tempfile.mkdtemp(prefix="pactkb-bench-pg-")
        url = subprocess.run(
            [str(ROOT / "scripts" / "pg-throwaway"), "start", folder], check=True, capture_output=True, text=True
        ).stdout.strip()
    try:
        with scratch_database(url, "pactkb_bench") as fresh:
            yield fresh
    finally:
        if folder:
            subprocess.run([str(ROOT / "scripts" / "pg-throwaway"), "stop", folder], check=False)


def latency(
    kb: KnowledgeBase, queries: list[str], qvecs: dict[str, np.ndarray]
) -> tuple[dict[str, dict[str, float]], dict[str, list[Any]]]:
    """p50/p95/p99 (ms) of Searcher.search per mode (query vectors given: the same for every store), and the ranked
    (document, ord) lists."""
    searcher = kb.searcher
    searcher.warm_up()
    out, ranks = {}, {}
    for mode in SEARCH_MODES:
        times = []
        for q in queries:
            t = time.perf_counter()
            result = searcher.search(q, k=10, mode=mode, qvec=qvecs[q])
            times.append((time.perf_counter() - t) * 1000)
            ranks[f"{mode}:{q}"] = [(h.document_id, h.page_start, h.section) for h in result.results]
        out[mode] = pct(times)
    return out, ranks


def vectors_by_text(kb: KnowledgeBase) -> dict[tuple[str, int], np.ndarray]:
    """Every chunk's vector by (document, order)."""
    return {(d, c.ord): c.vector for d in kb.store.document_ids() for _, c in kb.store.stored_chunks(d)}


def run(corpus: Path, url: str, work: Path, model: str | None) -> dict[str, Any]:
    """Ingest into both stores, open a second replica from empty, and measure."""
    base = Settings(data=work / "embedded", model=model) if model else Settings(data=work / "embedded")
    queries = load_queries()
    report: dict[str, Any] = {"corpus": str(corpus), "queries": len(queries)}
    embedded = KnowledgeBase(base)
    embedded.encoder.encode(["warm up"])  # the model loads outside the ingest timings
    t = time.perf_counter()
    summary = embedded.indexer.ingest([corpus])
    report["ingest_s"] = {"embedded": round(time.perf_counter() - t, 2)}
    report["chunks"] = summary.chunks
    upgrade(url)
    a = KnowledgeBase(base.model_copy(update={"data": work / "A", "database_url": url}), encoder=embedded.encoder)
    t = time.perf_counter()
    a.indexer.ingest([corpus])
    report["ingest_s"]["shared"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    b = KnowledgeBase(base.model_copy(update={"data": work / "B", "database_url": url}), encoder=embedded.encoder)
    report["replica_catch_up_s"] = round(time.perf_counter() - t, 2)  # B opened empty and caught up
    mine, theirs = vectors_by_text(embedded), vectors_by_text(b)
    report["max_vector_difference"] = float(max(np.abs(mine[k] - theirs[k]).max() for k in mine))
    qvecs = {q: embedded.searcher.encode_query(q) for q in queries}
    report["search_ms"], ranked = {}, {}
    for name, kb in (("embedded", embedded), ("replica_A", a), ("replica_B", b)):
        report["search_ms"][name], ranked[name] = latency(kb, queries, qvecs)
    report["same_ranking"] = {
        "embedded_vs_replica_A": ranked["embedded"] == ranked["replica_A"],
        "replica_A_vs_replica_B": ranked["replica_A"] == ranked["replica_B"],
    }
    return report


def beir_run(
    root: Path, url: str, work: Path, settings: Settings, split: str = "test", limit: int | None = None
) -> dict[str, Any]:
    """A BEIR collection's scores on the embedded evaluation index and on two replicas of the PostgreSQL store at `url`
    (an empty, upgraded database), per mode, with whether the rankings are identical."""
    coll = Collection(Path(root), split)
    qrels, queries = judged_queries(coll, limit)
    embedded, info = build_index(coll, settings)
    shared = embedded.settings.model_copy(update={"database_url": url})
    a = KnowledgeBase(shared.model_copy(update={"data": work / "A"}), encoder=embedded.encoder)
    # one encoding pass: each chunk's vector is the embedded index's of the same text (what replica B then reads back
    # from PostgreSQL is what gets searched)
    a.indexer.embedder = Embedder(embedded.encoder, embedded.store, shared.batch_size)
    t = time.perf_counter()
    summary = a.indexer.add_records(coll.corpus(), total=info["documents"])
    report: dict[str, Any] = {
        "collection": coll.name,
        "split": split,
        "queries": len(queries),
        "model": embedded.encoder.name,
        "embedded_index": info,
        "shared_ingest": {
            "seconds": round(time.perf_counter() - t, 2),
            "documents": summary.indexed,
            "chunks": summary.chunks,
            "chunks_encoded": summary.chunks_embedded,
        },
    }
    t = time.perf_counter()
    b = KnowledgeBase(shared.model_copy(update={"data": work / "B"}), encoder=embedded.encoder)
    report["replica_catch_up_s"] = round(time.perf_counter() - t, 2)
    report["chunks"] = {"embedded": embedded.store.counts()["chunks"], "shared": b.store.counts()["chunks"]}
    mine, theirs = vectors_by_text(embedded), vectors_by_text(b)
    report["same_chunks"] = mine.keys() == theirs.keys()
    both = mine.keys() & theirs.keys()
    report["max_vector_difference"] = float(max((np.abs(mine[k] - theirs[k]).max() for k in both), default=0.0))
    vecs = embedded.encoder.encode_queries(list(queries.values()))  # one vector per query for all three
    report["modes"] = []
    for mode in SEARCH_MODES:
        runs = {name: run_queries(kb, queries, mode, vecs=vecs)[0] for name, kb in stores(embedded, a, b)}
        report["modes"].append(
            {
                "mode": mode,
                **{name: evaluate(qrels, run) for name, run in runs.items()},
                "same_ranking": {
                    "embedded_vs_replica_A": runs["embedded"] == runs["replica_A"],
                    "embedded_vs_replica_B": runs["embedded"] == runs["replica_B"],
                },
                "queries_ranked_differently": sum(runs["embedded"][q] != runs["replica_B"][q] for q in queries),
            }
        )
    return report


def stores(embedded: KnowledgeBase, a: KnowledgeBase, b: KnowledgeBase) -> list[tuple[str, KnowledgeBase]]:
    """The three knowledge bases by their report names."""
    return [("embedded", embedded), ("replica_A", a), ("replica_B", b)]


def main() -> None:
    """Run the benchmark and print (or save) its figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=SAMPLE_DIR)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--model", default=None)
    ap.add_argument("--beir", type=Path, default=None, help="Compare search quality on this BEIR collection.")
    ap.add_argument("--split", default="test", help="The BEIR qrels split to score.")
    ap.add_argument("--limit", type=int, default=None, help="Only the first N judged queries (quick checks).")
    ap.add_argument("--cache-dir", type=Path, default=None, help="Where eval indexes are cached (as `pactkb eval`).")
    ap.add_argument("--json", type=Path, default=None, help="Also write the figures to this file.")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="pactkb-bench-shared-") as work, database(args.database_url) as url:
        if args.beir is not None:
            settings = Settings(**{k: v for k, v in (("model", args.model), ("cache_dir", args.cache_dir)) if v})
            upgrade(url)
            report = beir_run(args.beir, url, Path(work), settings, args.split, args.limit)
        else:
            report = run(args.corpus, url, Path(work), args.model)
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
