"""Query latency benchmark: p50/p95/p99 per mode, in-process and over HTTP, on a real store and on
synthetic stores grown from it (10k, 100k, 1M chunks): FAISS index kind, recall@10 against exact
search, build time, RSS and disk size. On the real store it also prints the cost of the deepest page the result
window allows (offset = max_result_window - k) beside the first page, as an anonymous caller.

    python -m pactkb.evaluation.bench.latency --data DATA_DIR [--http] [--json]
    python -m pactkb.evaluation.bench.latency --data DATA_DIR --synthetic 10000,100000,1000000 --work /tmp/synth [--json]

DATA_DIR is a store with real documents (e.g. the shared corpus ingested with `pactkb ingest`);
synthetic stores reuse its chunk texts and vectors, mixed so that no two chunks are identical.
Queries are the domain evaluation set's queries (practitioner wording, six languages).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import faiss
import httpx
import numpy as np

from pactkb.evaluation.bench.load import load_queries, start_server
from pactkb.index.dense import AllowedSet
from pactkb.index.filters import Filters
from pactkb.index.kb import KnowledgeBase
from pactkb.index.store import NewChunk, Store, blob_vector
from pactkb.settings import SEARCH_MODES, Settings

MODES = SEARCH_MODES


def pct(values: list[float]) -> dict[str, float]:
    """p50/p95/p99 in ms."""
    a = np.array(values)
    return {f"p{q}": round(float(np.percentile(a, q)), 2) for q in (50, 95, 99)}


def rss_mb() -> float:
    """Current resident set size of this process in MB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def in_process(kb: KnowledgeBase, queries: list[str], repeat: int = 2) -> dict[str, dict[str, float]]:
    """Latency of Searcher.search (encode + retrieve + snippets) per mode."""
    s = kb.searcher
    s.warm_up()
    s.search("warm up", k=10)
    out = {}
    for mode in MODES:
        lat = []
        for _ in range(repeat):
            for q in queries:
                s._qcache.clear()
                s._translation_cache.clear()
                t0 = time.perf_counter()
                s.search(q, k=10, mode=mode)
                lat.append((time.perf_counter() - t0) * 1000)
        out[mode] = pct(lat)
    return out


def deep_paging(kb: KnowledgeBase, queries: list[str], k: int = 10) -> dict[str, dict[str, Any]]:
    """First page vs the deepest page the result window allows (offset = max_result_window - k), as an anonymous
    caller (public clearance, like the API): latency p50/p95 and the peak Python memory of one search."""
    s = kb.searcher
    s.warm_up()
    deepest = kb.settings.max_result_window - k
    public = Filters(clearance="public")
    out: dict[str, dict[str, Any]] = {}
    for label, mode, group in (
        ("hybrid", "hybrid", False),
        ("hybrid, grouped by document", "hybrid", True),
        ("dense", "dense", False),
        ("lexical", "lexical", False),
    ):
        row: dict[str, Any] = {"deepest_offset": deepest}
        for page, offset in (("first", 0), ("deepest", deepest)):
            lat = []
            for q in queries:
                s.search(q, k=k, offset=offset, mode=mode, filters=public, group_by_document=group)  # the query vector
                t0 = time.perf_counter()
                s.search(q, k=k, offset=offset, mode=mode, filters=public, group_by_document=group)
                lat.append((time.perf_counter() - t0) * 1000)
            tracemalloc.start()
            for q in queries[:10]:
                s.search(q, k=k, offset=offset, mode=mode, filters=public, group_by_document=group)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            row[page] = {**pct(lat), "peak_mb": round(peak / 1e6, 1)}
        row["ratio_p50"] = round(row["deepest"]["p50"] / max(row["first"]["p50"], 1e-9), 2)
        out[label] = row
    return out


def over_http(data: Path, queries: list[str]) -> dict[str, dict[str, float]]:
    """Latency of GET /search per mode, one client, against `pactkb serve` on loopback."""
    proc, url = start_server(data, 1, {})
    out = {}
    try:
        with httpx.Client(base_url=url, timeout=60) as http:
            http.get("/search", params={"q": "warm up"})
            for mode in MODES:
                lat = []
                for q in queries * 2:
                    t0 = time.perf_counter()
                    r = http.get("/search", params={"q": q, "k": 10, "mode": mode})
                    r.raise_for_status()
                    lat.append((time.perf_counter() - t0) * 1000)
                out[mode] = pct(lat)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return out


# -- synthetic stores ------------------------------------------------------------------------------
def build_synthetic(source: Store, target: Path, n: int, seed: int = 0) -> dict[str, Any]:
    """A store of n chunks whose texts and vectors are mixtures of the source's (100 chunks per document)."""
    rng = np.random.default_rng(seed)
    rows = source.all_chunks()
    texts = [r["text"] for r in rows]
    vecs = np.stack([blob_vector(r["vector"]) for r in rows])
    sentences = [s for t in texts for s in t.split(". ") if len(s) > 20]
    store = Store(target)
    model, dim = source.model_info()
    store.bind_model(model, dim)
    t0 = time.perf_counter()
    per_doc = 100
    for d0 in range(0, n, 10_000):
        with store.transaction() as tx:
            for d in range(d0, min(n, d0 + 10_000), per_doc):
                doc_id = f"syn{d // per_doc:07d}"
                tx.insert_document(
                    {
                        "id": doc_id,
                        "sha256": doc_id,
                        "title": f"Synthetic document {d // per_doc}",
                        "kind": "record",
                        "source_name": doc_id,
                        "size": 0,
                        "pages": per_doc,
                        "origin": "record",
                        "doc_type": ["guideline", "report", "legislation"][d % 3],
                        "year": 2000 + d % 26,
                        "language": "en",
                        "areas": [],
                    }
                )
                chunks = []
                for j in range(min(per_doc, n - d)):
                    a, b = rng.integers(len(vecs), size=2)
                    v = 0.75 * vecs[a] + 0.35 * vecs[b] + rng.normal(0, 0.02, dim).astype(np.float32)
                    v /= np.linalg.norm(v)
                    text = ". ".join(sentences[k] for k in rng.integers(len(sentences), size=4))
                    chunks.append(
                        NewChunk(j, text, f"{doc_id}-{j}", j + 1, j + 1, None, None, "", len(text.split()), v)
                    )
                tx.insert_chunks(doc_id, f"Synthetic document {d // per_doc}", chunks)
    return {"chunks": n, "store_build_seconds": round(time.perf_counter() - t0, 1)}


def measure_size(data: Path, queries: list[str], nprobes: list[int]) -> dict[str, Any]:
    """In a fresh process: build the dense index as configured, recall@10 vs exact, latency per mode, RSS, disk."""
    settings = Settings(data=data)
    kb = KnowledgeBase(settings)
    rss0 = rss_mb()
    t0 = time.perf_counter()
    dense = kb.dense  # loads or builds (auto: flat, or IVF above the threshold)
    dense.publish()
    build = time.perf_counter() - t0
    rss_index = rss_mb()
    qv = kb.encoder.encode_queries(queries)
    result: dict[str, Any] = {
        "index": dense.kind,
        "vectors": dense.ntotal,
        "dense_build_seconds": round(build, 1),
        "rss_mb_after_load": rss_index,
        "rss_mb_index_delta": round(rss_index - rss0, 1),
    }
    if dense.kind == "ivf":
        exact = faiss.IndexFlatIP(dense.dim)
        ids_all, chunks = [], []
        for ids, v in kb.store.iter_vectors():
            ids_all.append(ids)
            chunks.append(v)
        exact_ids = np.concatenate(ids_all)
        exact.add(np.concatenate(chunks))
        _, truth = exact.search(qv, 10)
        truth_ids = exact_ids[truth]
        del exact, chunks
        sweep = {}
        for npb in nprobes:
            dense.nprobe = npb
            lat, hits = [], 0
            for i in range(len(qv)):
                t1 = time.perf_counter()
                got = [c for c, _ in dense.search(qv[i], 10, AllowedSet.everything())]
                lat.append((time.perf_counter() - t1) * 1000)
                hits += len(set(got) & set(truth_ids[i].tolist()))
            sweep[str(npb)] = {"recall@10": round(hits / (10 * len(qv)), 4), "dense_search_p50_ms": pct(lat)["p50"]}
        dense.nprobe = settings.ivf_nprobe
        result["ivf_nlist"] = int(dense.index.nlist)
        result["ivf_sweep"] = sweep
        result["recall@10_vs_exact"] = sweep[str(settings.ivf_nprobe)]["recall@10"]
    else:
        result["recall@10_vs_exact"] = 1.0
    result["latency_ms"] = in_process(kb, queries, repeat=1)
    result["rss_mb_peak"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    result["disk_mb"] = round(sum(p.stat().st_size for p in data.rglob("*") if p.is_file()) / 1e6, 1)
    result["faiss_disk_mb"] = round(dense.disk_bytes() / 1e6, 1)
    return result


def main() -> None:
    """Parse arguments and run the requested measurements."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="A store with real documents.")
    ap.add_argument("--http", action="store_true", help="Also measure over HTTP.")
    ap.add_argument("--synthetic", default="", help="Comma-separated synthetic store sizes, e.g. 10000,100000,1000000.")
    ap.add_argument(
        "--work", type=Path, default=Path("/tmp/pactkb-synthetic"), help="Where synthetic stores are built."
    )
    ap.add_argument("--keep", action="store_true", help="Keep synthetic stores (reused on the next run).")
    ap.add_argument("--nprobe", default="8,16,32,64,128", help="IVF nprobe values to sweep.")
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # internal: measure one store in this process
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    queries = load_queries()
    nprobes = [int(x) for x in args.nprobe.split(",")]
    if args.measure:
        print(json.dumps(measure_size(args.measure, queries, nprobes)))
        return
    if not (args.data / "pactkb.sqlite3").exists():
        ap.error(f"--data {args.data}: no store (run pactkb ingest first)")
    result: dict[str, Any] = {"queries": len(queries)}
    kb = KnowledgeBase(Settings(data=args.data))
    result["real"] = {
        "chunks": kb.store.counts()["chunks"],
        "index": kb.dense.kind,
        "in_process_ms": in_process(kb, queries),
        "deep_paging": deep_paging(kb, queries),
        "max_result_window": kb.settings.max_result_window,
    }
    if args.http:
        result["real"]["http_ms"] = over_http(args.data, queries)
    result["synthetic"] = []
    for n in [int(x) for x in args.synthetic.split(",") if x]:
        target = args.work / f"synthetic-{n}"
        info: dict[str, Any] = {"chunks": n}
        if not (target / "pactkb.sqlite3").exists():
            shutil.rmtree(target, ignore_errors=True)
            info.update(build_synthetic(kb.store, target, n))
        for stale in (target / "index").glob("dense-*.faiss"):
            stale.unlink()  # measure the index build, not a load
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "pactkb.evaluation.bench.latency",
                "--data",
                str(args.data),
                "--measure",
                str(target),
                "--nprobe",
                args.nprobe,
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        if out.returncode != 0:
            raise SystemExit(out.stderr[-2000:])
        info.update(json.loads(out.stdout.strip().splitlines()[-1]))
        result["synthetic"].append(info)
        if not args.keep:
            shutil.rmtree(target, ignore_errors=True)
    if args.json:
        print(json.dumps(result))
        return
    print(f"Query latency (ms), {len(queries)} domain queries, k=10")
    print("| store | chunks | index | mode | in-process p50 | p95 | p99 | HTTP p50 | p95 | p99 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    real = result["real"]
    for mode in MODES:
        h = real.get("http_ms", {}).get(mode, {})
        ip = real["in_process_ms"][mode]
        print(
            f"| shared corpus | {real['chunks']} | {real['index']} | {mode} | {ip['p50']} | {ip['p95']} | {ip['p99']} | "
            f"{h.get('p50', '')} | {h.get('p95', '')} | {h.get('p99', '')} |"
        )
    print(
        f"\nFirst page vs the deepest allowed page (max_result_window {real['max_result_window']}: offset "
        f"{real['max_result_window'] - 10}, k=10), anonymous caller, in-process, ms"
    )
    print("| search | first p50 | p95 | peak MB | deepest p50 | p95 | peak MB | deepest/first p50 |")
    print("|---|---|---|---|---|---|---|---|")
    for label, row in real["deep_paging"].items():
        f, d = row["first"], row["deepest"]
        print(
            f"| {label} | {f['p50']} | {f['p95']} | {f['peak_mb']} | {d['p50']} | {d['p95']} | {d['peak_mb']} | "
            f"{row['ratio_p50']}x |"
        )
    for s in result["synthetic"]:
        for mode in MODES:
            ip = s["latency_ms"][mode]
            print(
                f"| synthetic | {s['chunks']} | {s['index']} | {mode} | {ip['p50']} | {ip['p95']} | {ip['p99']} | | | |"
            )
    if result["synthetic"]:
        print("\n| chunks | index | recall@10 vs exact | dense build s | store build s | RSS MB | disk MB (FAISS) |")
        print("|---|---|---|---|---|---|---|")
        for s in result["synthetic"]:
            print(
                f"| {s['chunks']} | {s['index']} | {s['recall@10_vs_exact']} | {s['dense_build_seconds']} | "
                f"{s.get('store_build_seconds', 'reused')} | {s['rss_mb_after_load']} | {s['disk_mb']} ({s['faiss_disk_mb']}) |"
            )


if __name__ == "__main__":
    main()
