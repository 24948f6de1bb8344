"""Query latency benchmark: p50/p95/p99 per mode, in-process and over HTTP, on a real store and on
synthetic stores grown from it (10k, 100k, 1M chunks), with the median time per search stage beside each (the
search profile, index/profile.py): FAISS index kind, dense recall@10 and @100 against exact search (unfiltered and
within a filter), build time, RSS and disk size. On the real store it also prints the cost of the deepest page the
result window allows (offset = max_result_window - k) beside the first page, as an anonymous caller. --soak SECONDS
runs queries for that long on the largest store and reports RSS at its start and end.

    python -m pactkb.evaluation.bench.latency --data DATA_DIR [--http] [--json]
    python -m pactkb.evaluation.bench.latency --data DATA --synthetic 10000,100000,1000000 --work /tmp/synth [--json]
    python -m pactkb.evaluation.bench.latency --data DATA_DIR --synthetic 1000000 --soak 600 --json

DATA_DIR is a store with real documents (e.g. the shared corpus ingested with `pactkb ingest`);
synthetic stores reuse its chunk texts and vectors, mixed so that no two chunks are identical.
Queries are the domain evaluation set's queries (practitioner wording, six languages).

In-process and HTTP are asked alike, so their difference is the HTTP path's: a fresh process (a fresh 1-worker
`pactkb serve`), the modes in the same order, each query twice per mode (once at the synthetic sizes), its vector and
translation computed anew each time; `first_pass` is the first time each query is asked. `http_breakdown_ms` splits
each request's time from its Server-Timing header: client-observed, the server's total, Searcher.search's, and the
server's parts outside the search (auth, dispatch to the worker thread, response building, serialisation, audit).
"""

from __future__ import annotations

import argparse
import http.client
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
from urllib.parse import urlencode, urlsplit

import faiss
import numpy as np

from pactkb.evaluation.bench.load import load_queries, start_server
from pactkb.index.dense import AllowedSet, DenseIndex
from pactkb.index.filters import Filters
from pactkb.index.hybrid import Searcher
from pactkb.index.kb import KnowledgeBase
from pactkb.index.store import NewChunk, Store, blob_vector
from pactkb.settings import SEARCH_MODES, Settings

MODES = SEARCH_MODES
SYNTHETIC_PER_DOC = 100  # chunks per document of a synthetic store (ids syn0000000, syn0000001, ...)
# over_http's server: a query's vector and translation are gone by the time it comes back (every mode asks each query
# `repeat` times over all the queries), yet one search's own repeated look-ups hit, as in in_process
FORGETFUL_CACHES = {"PACTKB_QUERY_CACHE": "8", "PACTKB_TRANSLATION_CACHE": "8"}


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


def forget_queries(searcher: Searcher) -> None:
    """Empty the per-query caches (vectors, translations), so every measured search encodes and translates anew."""
    searcher._vectors.clear()
    searcher._translations.clear()


def median_stages(profiles: list[dict[str, float]]) -> dict[str, float]:
    """The median ms of each stage over searches' timings (stages that never ran are left out)."""
    names = [n for n in profiles[0] if any(p.get(n, 0) > 0 for p in profiles)]
    return {n: round(float(np.median([p.get(n, 0.0) for p in profiles])), 2) for n in names}


def in_process(kb: KnowledgeBase, queries: list[str], repeat: int = 2) -> tuple[dict[str, Any], dict[str, Any]]:
    """Latency of Searcher.search (encode + retrieve + snippets) per mode, every query encoded anew; and the median
    time of each search stage per mode (the searches' profiles). Modes run in MODES order, each query `repeat` times;
    `first_pass` is the first time each query is asked in the mode (the process's first search of it in hybrid: its
    words' stemming, folding and snippet memos are cold, as in a service that has not seen the query)."""
    s = kb.searcher
    s.warm_up()
    s.search("warm up", k=10)
    out, stages = {}, {}
    for mode in MODES:
        lat, profiles = [], []
        for _ in range(repeat):
            for q in queries:
                forget_queries(s)
                t0 = time.perf_counter()
                res = s.search(q, k=10, mode=mode)
                lat.append((time.perf_counter() - t0) * 1000)
                profiles.append(res.timings or {})
        out[mode] = {**pct(lat), "first_pass": pct(lat[: len(queries)])}
        stages[mode] = median_stages(profiles)
    return out, stages


def soak(kb: KnowledgeBase, queries: list[str], seconds: float) -> dict[str, Any]:
    """Queries for `seconds` (every mode, pages, a filter, each query encoded anew): RSS at the start, every tenth of
    the way and at the end, to show whether memory grows under a steady query load."""
    s = kb.searcher
    s.warm_up()
    variants = [
        {"mode": mode, "offset": offset, "filters": filters}
        for mode in MODES
        for offset in (0, 20)
        for filters in (Filters(), Filters(doc_types=("guideline",)), Filters(clearance="public"))
    ]
    start, samples, n = time.perf_counter(), [rss_mb()], 0
    while (elapsed := time.perf_counter() - start) < seconds:
        forget_queries(s)
        s.search(queries[n % len(queries)], k=10, **variants[n % len(variants)])
        n += 1
        if elapsed >= len(samples) * seconds / 10:
            samples.append(rss_mb())
    samples.append(rss_mb())
    return {
        "seconds": round(time.perf_counter() - start, 1),
        "queries": n,
        "rss_mb_start": samples[0],
        "rss_mb_end": samples[-1],
        "rss_mb_growth": round(samples[-1] - samples[0], 1),
        "rss_mb_samples": samples,
    }


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


def server_timing(header: str) -> dict[str, float]:
    """A Server-Timing header (api/timing.py) as {part: ms}."""
    parts = (entry.strip().split(";dur=") for entry in header.split(",") if ";dur=" in entry)
    return {name: float(ms) for name, ms in parts}


def breakdown(rows: list[dict[str, float]]) -> dict[str, float]:
    """Per request: the client's time, the server's total and Searcher.search's; the median of each, of the gaps
    between them, and of each part of the server's time outside the search (Server-Timing)."""
    med = {
        "client": [r["client"] for r in rows],
        "server_total": [r["total"] for r in rows],
        "search": [r["search"] for r in rows],
        "client_minus_server": [r["client"] - r["total"] for r in rows],
        "server_minus_search": [r["total"] - r["search"] for r in rows],
    }
    parts = [n for n in rows[0] if n not in ("client", "total", "search") and not n.startswith("search.")]
    med |= {f"part_{n}": [r.get(n, 0.0) for r in rows] for n in parts}
    return {k: round(float(np.median(v)), 2) for k, v in med.items()}


class LoopbackClient:
    """One keep-alive HTTP/1.1 connection on the standard library's http.client: the measuring client. It takes about
    a third of httpx's CPU per request (0.6 against 1.8 ms here), CPU the server shares on a 2-core machine, so the
    figure is the service's rather than the client library's."""

    def __init__(self, url: str, timeout: float = 60) -> None:
        """Connect to the server at `url` (http://host:port)."""
        parts = urlsplit(url)
        self.con = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)

    def get(self, path: str, params: dict[str, Any]) -> str:
        """GET path?params, the body read; its Server-Timing header (an error unless the status is 200). A connection
        the server closed while idle (uvicorn's keep-alive timeout is 5 s) is opened again once."""
        try:
            response = self._send(f"{path}?{urlencode(params)}")
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            self.con.close()
            response = self._send(f"{path}?{urlencode(params)}")
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"GET {path}: HTTP {response.status}: {body[:300]!r}")
        return response.getheader("server-timing") or ""

    def _send(self, target: str) -> http.client.HTTPResponse:
        """One GET on the connection (opened if needed)."""
        self.con.request("GET", target)
        return self.con.getresponse()

    def close(self) -> None:
        """Close the connection."""
        self.con.close()


def over_http(
    data: Path, queries: list[str], repeat: int = 2
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, float]]]:
    """Latency of GET /search per mode, one client, against a fresh `pactkb serve` (1 worker) on loopback, asked as
    in_process asks Searcher.search, so the two are comparable: modes in MODES order, each query `repeat` times, with
    query-vector and translation caches too small for any query to come back from them (every request encodes and
    translates anew, as in_process's forget_queries), while the service's other memos warm as in_process's do. Also
    the median breakdown of each mode's requests from their Server-Timing headers: client-observed time, the
    server's total and Searcher.search's."""
    out, parts = {}, {}
    proc, url = start_server(data, 1, FORGETFUL_CACHES)
    client = LoopbackClient(url)
    try:
        client.get("/search", {"q": "warm up"})
        for mode in MODES:
            lat, rows = [], []
            for _ in range(repeat):
                for q in queries:
                    t0 = time.perf_counter()
                    timing = client.get("/search", {"q": q, "k": 10, "mode": mode})
                    lat.append((time.perf_counter() - t0) * 1000)
                    rows.append({"client": lat[-1], **server_timing(timing)})
            out[mode] = {**pct(lat), "first_pass": pct(lat[: len(queries)])}
            if all("total" in r and "search" in r for r in rows):
                parts[mode] = breakdown(rows)
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=30)
    return out, parts


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
    if model is None or dim is None:
        raise SystemExit(f"{source.path}: the store has no embedding model recorded (ingest something first)")
    store.bind_model(model, dim)
    t0 = time.perf_counter()
    per_doc = SYNTHETIC_PER_DOC
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


def recall(found: list[list[int]], truth: np.ndarray, k: int) -> float:
    """Share of the exact top-k found, over all queries."""
    return round(
        sum(len(set(f[:k]) & set(t[:k].tolist())) for f, t in zip(found, truth, strict=True)) / truth[:, :k].size, 4
    )


def dense_recall(kb: KnowledgeBase, qv: np.ndarray, sweeps: dict[str, list[int]], depth: int = 100) -> dict[str, Any]:
    """The dense index as configured against exact search over the store's vectors: recall@10 and @depth (the
    candidates fusion sees), unfiltered and within a filter (a third of the documents: the filter applies inside
    the index); for an approximate index, recall and search time per search effort (sweeps: IVF nprobes under
    'ivf', HNSW efSearch values under 'hnsw')."""
    dense = kb.dense
    ids_all, chunks = [], []
    for ids, v in kb.store.iter_vectors():
        ids_all.append(ids)
        chunks.append(v)
    exact_ids = np.concatenate(ids_all)
    exact = faiss.IndexFlatIP(dense.dim)
    exact.add(np.concatenate(chunks))
    del chunks
    depth = min(depth, len(exact_ids))
    _, truth = exact.search(qv, depth)
    truth_ids = exact_ids[truth]
    guideline = Filters(doc_types=("guideline",))
    allowed = kb.searcher.allowed(guideline, kb.store.conn())
    admitted = np.isin(exact_ids, allowed.ids) if allowed.ids is not None else np.ones(len(exact_ids), bool)
    sel = faiss.IDSelectorBatch(np.flatnonzero(admitted).astype(np.int64))
    _, ftruth = exact.search(qv, depth, params=faiss.SearchParameters(sel=sel))
    ftruth_ids = exact_ids[ftruth]
    del exact

    def measure() -> dict[str, Any]:
        lat, found, ffound = [], [], []
        for q in qv:
            t1 = time.perf_counter()
            found.append([c for c, _ in dense.search(q, depth, AllowedSet.everything())])
            lat.append((time.perf_counter() - t1) * 1000)
            ffound.append([c for c, _ in dense.search(q, depth, allowed)])
        return {
            "recall@10": recall(found, truth_ids, 10),
            f"recall@{depth}": recall(found, truth_ids, depth),
            "filtered_recall@10": recall(ffound, ftruth_ids, 10),
            "dense_search_p50_ms": pct(lat)["p50"],
        }

    configured = measure()
    out: dict[str, Any] = {
        "recall@10_vs_exact": configured["recall@10"],
        f"recall@{depth}_vs_exact": configured[f"recall@{depth}"],
        "filtered_recall@10_vs_exact": configured["filtered_recall@10"],
        "dense_search_p50_ms": configured["dense_search_p50_ms"],
        "recall_depth": depth,
    }
    if isinstance(dense, DenseIndex) and dense.kind in sweeps:
        effort = "nprobe" if dense.kind == "ivf" else "ef_search"
        own = getattr(dense, effort)
        sweep = {}
        for value in sweeps[dense.kind]:
            setattr(dense, effort, value)
            sweep[str(value)] = measure()
        setattr(dense, effort, own)
        if dense.kind == "ivf":
            out |= {"ivf_nlist": int(getattr(dense.index, "nlist", 0)), "ivf_nprobe": own, "ivf_sweep": sweep}
        else:
            out |= {
                "hnsw_m": dense.hnsw.m,
                "hnsw_ef_construction": dense.hnsw.ef_construction,
                "hnsw_ef_search": own,
                "hnsw_tombstones": dense.dead,
                "hnsw_sweep": sweep,
            }
    return out


def measure_size(
    data: Path, queries: list[str], sweeps: dict[str, list[int]], soak_seconds: float = 0
) -> dict[str, Any]:
    """In a fresh process: build the dense index as configured, recall vs exact, latency and the median time per
    stage per mode, RSS (and a soak's), disk."""
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
    result.update(dense_recall(kb, qv, sweeps))
    result["latency_ms"], result["profile_ms"] = in_process(kb, queries, repeat=1)
    result["rss_mb_after_queries"] = rss_mb()
    if soak_seconds:
        result["soak"] = soak(kb, queries, soak_seconds)
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
    ap.add_argument("--nprobe", default="32,64,128,256,512,1024", help="IVF nprobe values to sweep.")
    ap.add_argument("--ef", default="128,256,512,1024,2048,4096", help="HNSW efSearch values to sweep.")
    ap.add_argument(
        "--soak", type=float, default=0, help="Seconds of queries on the largest store, with RSS at start and end."
    )
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # internal: measure one store in this process
    ap.add_argument(
        "--no-deep-paging", action="store_true", help="Skip the deepest-page comparison on the real store (faster)."
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    queries = load_queries()
    sweeps = {"ivf": [int(x) for x in args.nprobe.split(",")], "hnsw": [int(x) for x in args.ef.split(",")]}
    if args.measure:
        print(json.dumps(measure_size(args.measure, queries, sweeps, args.soak)))
        return
    if not (args.data / "pactkb.sqlite3").exists():
        ap.error(f"--data {args.data}: no store (run pactkb ingest first)")
    result: dict[str, Any] = {"queries": len(queries)}
    kb = KnowledgeBase(Settings(data=args.data))
    sizes = [int(x) for x in args.synthetic.split(",") if x]
    ip_ms, profile = in_process(kb, queries)
    result["real"] = {
        "chunks": kb.store.counts()["chunks"],
        "index": kb.dense.kind,
        "in_process_ms": ip_ms,
        "profile_ms": profile,
        "deep_paging": {} if args.no_deep_paging else deep_paging(kb, queries),
        "max_result_window": kb.settings.max_result_window,
        "rss_mb": rss_mb(),
    }
    if args.soak and not sizes:
        result["real"]["soak"] = soak(kb, queries, args.soak)
    if args.http:
        result["real"]["http_ms"], result["real"]["http_breakdown_ms"] = over_http(args.data, queries)
    result["synthetic"] = []
    for n in sizes:
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
                "--ef",
                args.ef,
                "--soak",
                str(args.soak if n == max(sizes) else 0),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        if out.returncode != 0:
            raise SystemExit(out.stderr[-2000:])
        info.update(json.loads(out.stdout.strip().splitlines()[-1]))
        if args.http:  # asked once, as measure_size asks in-process
            info["http_ms"], info["http_breakdown_ms"] = over_http(target, queries, repeat=1)
        result["synthetic"].append(info)
        if not args.keep:
            shutil.rmtree(target, ignore_errors=True)
    if args.json:
        print(json.dumps(result))
        return
    print_tables(result)


def print_deep_paging(real: dict[str, Any]) -> None:
    """The first page against the deepest page the result window allows, per kind of search."""
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


def print_tables(result: dict[str, Any]) -> None:
    """The results as markdown tables: latency per store and mode, deep paging, stages, recall and memory."""
    print(f"Query latency (ms), {result['queries']} domain queries, k=10")
    print("| store | chunks | index | mode | in-process p50 | p95 | p99 | HTTP p50 | p95 | p99 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    real = result["real"]
    stores = [
        ("shared corpus", real, real["in_process_ms"]),
        *(("synthetic", s, s["latency_ms"]) for s in result["synthetic"]),
    ]
    for label, st, ms in stores:
        for mode in MODES:
            h, ip = st.get("http_ms", {}).get(mode, {}), ms[mode]
            print(
                f"| {label} | {st['chunks']} | {st['index']} | {mode} | {ip['p50']} | {ip['p95']} | {ip['p99']} | "
                f"{h.get('p50', '')} | {h.get('p95', '')} | {h.get('p99', '')} |"
            )
    print("\nFirst pass (each query the first time in the mode; hybrid: the process's first sight of it), p50 ms")
    print("| store | mode | in-process | HTTP |\n|---|---|---|---|")
    for label, st, ms in stores:
        for mode in MODES:
            http_first = st.get("http_ms", {}).get(mode, {}).get("first_pass", {}).get("p50", "")
            first = ms[mode].get("first_pass", {}).get("p50", "")
            print(f"| {label} {st['chunks']} | {mode} | {first} | {http_first} |")
    if any(st.get("http_breakdown_ms") for _, st, _ in stores):
        print("\nHTTP per request, median ms (Server-Timing): client-observed, server total, Searcher.search")
        print("| store | mode | client | server | search | client - server | server - search | server parts |")
        print("|---|---|---|---|---|---|---|---|")
        for label, st, _ in stores:
            for mode, b in st.get("http_breakdown_ms", {}).items():
                rest = ", ".join(f"{k[5:]} {v}" for k, v in b.items() if k.startswith("part_"))
                print(
                    f"| {label} {st['chunks']} | {mode} | {b['client']} | {b['server_total']} | {b['search']} | "
                    f"{b['client_minus_server']} | {b['server_minus_search']} | {rest} |"
                )
    if real["deep_paging"]:
        print_deep_paging(real)
    print("\nMedian ms per search stage, hybrid (index/profile.py)")
    for label, st, _ in stores:
        stages = st.get("profile_ms", {}).get("hybrid", {})
        print(f"| {label} {st['chunks']} | " + " | ".join(f"{k} {v}" for k, v in stages.items()) + " |")
    if result["synthetic"]:
        print("\n| chunks | index | recall@10 vs exact | filtered | dense build s | store build s | RSS MB | disk MB |")
        print("|---|---|---|---|---|---|---|---|")
        for s in result["synthetic"]:
            print(
                f"| {s['chunks']} | {s['index']} | {s['recall@10_vs_exact']} | {s['filtered_recall@10_vs_exact']} | "
                f"{s['dense_build_seconds']} | {s.get('store_build_seconds', 'reused')} | {s['rss_mb_after_load']} | "
                f"{s['disk_mb']} ({s['faiss_disk_mb']}) |"
            )
    for st in [real, *result["synthetic"]]:
        if "soak" in st:
            k = st["soak"]
            print(
                f"\nSoak at {st['chunks']} chunks: {k['queries']} queries in {k['seconds']} s, "
                f"RSS {k['rss_mb_start']} -> {k['rss_mb_end']} MB"
            )


if __name__ == "__main__":
    main()
