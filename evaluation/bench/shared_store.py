"""The shared PostgreSQL store against the embedded default: ingest time, search latency (in process, p50/p95/p99 per
mode) on the embedded store, on the replica that ingested and on a second replica that started empty, how long that
replica took to catch up, and whether the rankings are identical (one encoder instance and one vector per query for
all three, so only the stores differ).

    python -m pactkb.evaluation.bench.shared_store [--corpus DIR] [--database-url URL] [--model NAME] [--json OUT]

Without --database-url a throwaway server is started with scripts/pg-throwaway (and stopped). The corpus defaults to
the bundled sample; the model to the configured default. Queries are the domain evaluation set's.
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
from pactkb.evaluation.bench.latency import pct
from pactkb.evaluation.bench.load import load_queries
from pactkb.index.kb import KnowledgeBase
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


def main() -> None:
    """Run the benchmark and print (or save) its figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=SAMPLE_DIR)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--model", default=None)
    ap.add_argument("--json", type=Path, default=None, help="Also write the figures to this file.")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="pactkb-bench-shared-") as work, database(args.database_url) as url:
        report = run(args.corpus, url, Path(work), args.model)
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
