"""Approximate dense search candidates side by side on synthetic vectors (as the latency benchmark's synthetic stores
make them: mixtures of a real store's chunk vectors), without building stores: exact search, IVF-Flat as
pactkb built it until now (inner-product k-means on the raw vectors), IVF on mean-centred vectors (flat and SQ8) and
HNSW, each swept over its search parameter. Per setting: recall@10 and @100 against exact search, recall@10 within a
filter admitting a third of the chunks, and single-threaded CPU time per query; per candidate: build time and bytes.

    python -m pactkb.evaluation.bench.dense_ann --data STORE --sizes 100000,1000000 --json > out.json

Queries are the domain evaluation set's queries encoded by the store's encoder, and held-out mixtures of three
stored vectors (as the index calibrates on).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from pactkb.evaluation.bench.load import load_queries
from pactkb.index.kb import KnowledgeBase
from pactkb.index.store import Store
from pactkb.settings import Settings

KINDS = ("raw", "l2", "centred", "centred-sq8", "raw-sq8r", "raw-pqfsr")
FILTER_EVERY = 3  # the filter admits documents d % 3 == 0 (of 100 chunks each), as the latency bench's doc types


def source_vectors(store: Store) -> np.ndarray:
    """Every chunk vector of a store."""
    return np.concatenate([v for _, v in store.iter_vectors()]).astype(np.float32)


def synthetic(src: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """n vectors mixed as build_synthetic mixes them (0.75 a + 0.35 b + noise, normalised)."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, src.shape[1]), dtype=np.float32)
    for s in range(0, n, 100_000):
        m = min(n, s + 100_000) - s
        ab = rng.integers(len(src), size=(m, 2))
        v = 0.75 * src[ab[:, 0]] + 0.35 * src[ab[:, 1]] + rng.normal(0, 0.02, (m, src.shape[1])).astype(np.float32)
        out[s : s + m] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out


def mixed_queries(src: np.ndarray, n: int, seed: int = 7) -> np.ndarray:
    """Held-out queries: means of three source vectors."""
    rng = np.random.default_rng(seed)
    q = src[rng.integers(len(src), size=(3, n))].sum(axis=0)
    return np.ascontiguousarray(q / np.linalg.norm(q, axis=1, keepdims=True), dtype=np.float32)


def recall(got: np.ndarray, truth: np.ndarray, k: int) -> float:
    """Share of the exact top-k found in the first k."""
    return round(
        sum(len(set(g[:k]) & set(t[:k])) for g, t in zip(got.tolist(), truth.tolist(), strict=True))
        / (truth.shape[0] * k),
        4,
    )


def timed_search(search: Callable[[np.ndarray], np.ndarray], queries: np.ndarray) -> tuple[np.ndarray, float]:
    """Ids for each query searched one at a time, and the median CPU ms per query."""
    rows, cpu = [], []
    for q in queries:
        t = time.process_time()
        rows.append(search(q[None, :]))
        cpu.append((time.process_time() - t) * 1000)
    return np.concatenate(rows), round(float(np.median(cpu)), 3)


KMEANS_ITER = 0  # k-means iterations of the IVF quantizers (0: FAISS's default, as pactkb builds them)
_CENTROIDS: dict[int, np.ndarray] = {}  # spherical k-means centroids per nlist, shared by the raw kinds


def ivf(x: np.ndarray, kind: str, nlist: int) -> tuple[faiss.Index, np.ndarray]:
    """IVF trained on a sample; kind 'raw' (as until now: spherical inner-product k-means), 'l2' (Euclidean k-means
    and an L2 quantizer over the raw vectors), 'centred' or 'centred-sq8', 'raw-sq8r' / 'raw-pqfsr' (8-bit scalar
    or 4-bit fast-scan PQ codes whose shortlist is re-ranked exactly: IndexRefineFlat); returns the index and the
    mean subtracted from the stored vectors (zeros unless centred)."""
    d = x.shape[1]
    mean = x.mean(axis=0) if kind.startswith("centred") else np.zeros(d, dtype=np.float32)
    quantizer = faiss.IndexFlatL2(d) if kind == "l2" else faiss.IndexFlatIP(d)
    index: faiss.Index
    if kind == "raw-pqfsr":
        index = faiss.IndexIVFPQFastScan(quantizer, d, nlist, d // 4, 4, faiss.METRIC_INNER_PRODUCT)
    elif "sq8" in kind:
        index = faiss.IndexIVFScalarQuantizer(
            quantizer, d, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
        )
    else:
        index = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
    index.referenced_objects = [quantizer]
    if kind == "l2":
        index.cp.spherical = False
    if KMEANS_ITER:
        index.cp.niter = KMEANS_ITER
    shared = kind.startswith("raw")
    if shared and nlist in _CENTROIDS:
        quantizer.add(_CENTROIDS[nlist])  # trained already: IndexIVF.train then trains only the codes
    rng = np.random.default_rng(0)
    sample = x[rng.choice(len(x), size=min(len(x), 64 * nlist, 256 * 1024), replace=False)] - mean
    index.train(np.ascontiguousarray(sample))
    if shared:
        _CENTROIDS[nlist] = quantizer.reconstruct_n(0, nlist)
    if kind.endswith("r"):
        base = index
        index = faiss.IndexRefineFlat(base)
        index.referenced_objects = [base]
    for s in range(0, len(x), 100_000):
        index.add(np.ascontiguousarray(x[s : s + 100_000] - mean))
    return index, mean


def ivf_params(kind: str, nprobe: int, k_factor: int, sel: faiss.IDSelector | None = None) -> faiss.SearchParameters:
    """Search parameters of an IVF candidate: nprobe lists (and a selector); re-ranked kinds shortlist k_factor*k."""
    base = (
        faiss.SearchParametersIVF(nprobe=nprobe, sel=sel)
        if sel is not None
        else faiss.SearchParametersIVF(nprobe=nprobe)
    )
    if not kind.endswith("r"):
        return base
    return faiss.IndexRefineSearchParameters(k_factor=k_factor, base_index_params=base)


def top_ids(index: faiss.Index, k: int, params: faiss.SearchParameters | None, q: np.ndarray) -> np.ndarray:
    """The top-k ids of a query batch."""
    return index.search(q, k, params=params)[1]


def sweep(
    index: faiss.Index,
    params: list[tuple[int, Any, Any]],
    queries: np.ndarray,
    truth: np.ndarray,
    ftruth: np.ndarray,
    label: str,
) -> dict[str, Any]:
    """Recall and CPU time at each (setting, params, filtered params), cheapest first; stops once recall@100 and the
    filtered recall@10 are near perfect."""
    out = {}
    for value, p, fp in params:
        got, ms = timed_search(partial(top_ids, index, 100, p), queries)
        fgot, fms = timed_search(partial(top_ids, index, 10, fp), queries)
        row = {
            "recall@10": recall(got, truth, 10),
            "recall@100": recall(got, truth, 100),
            "filtered_recall@10": recall(fgot, ftruth, 10),
            "ms": ms,
            "filtered_ms": fms,
        }
        out[str(value)] = row
        print(f"  {label} {value}: {row}", flush=True)
        if row["recall@100"] >= 0.995 and row["filtered_recall@10"] >= 0.99:
            break
    return out


def measure_flat(x: np.ndarray, queries: np.ndarray, truth: np.ndarray, sel: faiss.IDSelector) -> dict[str, Any]:
    """Exact search: the reference cost."""
    t = time.process_time()
    flat = faiss.IndexFlatIP(x.shape[1])
    flat.add(x)
    got, ms = timed_search(partial(top_ids, flat, 100, None), queries)
    _, fms = timed_search(partial(top_ids, flat, 10, faiss.SearchParameters(sel=sel)), queries)
    return {
        "build_cpu_s": round(time.process_time() - t, 1),
        "bytes": int(x.nbytes),
        "settings": {"exact": {"recall@10": recall(got, truth, 10), "ms": ms, "filtered_ms": fms}},
    }


def measure(
    x: np.ndarray,
    queries: np.ndarray,
    truth: np.ndarray,
    ftruth: np.ndarray,
    allowed: np.ndarray,
    candidates: list[str],
    efs: list[int],
    nlist_factors: tuple[int, ...] = (4,),
    ef_constructions: tuple[int, ...] = (80,),
    k_factor: int = 4,
) -> dict[str, Any]:
    """Every candidate (flat, ivf-<kind> with nlist = each factor * sqrt(n), hnsw<M> at each efConstruction) at
    every setting (IVF: each nprobe; HNSW: each efSearch of efs)."""
    n = len(x)
    sel = faiss.IDSelectorBatch(allowed)
    out: dict[str, Any] = {}
    for kind in (k for k in KINDS if f"ivf-{k}" in candidates):
        for factor in nlist_factors:
            nlist = int(factor * math.sqrt(n))
            t = time.process_time()
            index, _ = ivf(x, kind, nlist)
            build = round(time.process_time() - t, 1)
            nprobes = [p for p in (8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024) if p <= nlist]
            grid = [
                (
                    p,
                    ivf_params(kind, p, k_factor),
                    ivf_params(kind, min(nlist, p * FILTER_EVERY), k_factor, sel),
                )
                for p in nprobes
            ]
            name = f"ivf-{kind}" + ("" if factor == 4 else f"-x{factor}")
            settings = sweep(index, grid, queries, truth, ftruth, f"{n} {name}")
            out[name] = {
                "nlist": nlist,
                "k_factor": k_factor if kind.endswith("r") else None,
                "build_cpu_s": build,
                "bytes": len(faiss.serialize_index(index)),
                "settings": settings,
            }
            print(json.dumps({name: {k: v for k, v in out[name].items() if k != "settings"}}), flush=True)
            del index
    for m, efc in ((int(c[4:]), e) for c in candidates if c.startswith("hnsw") for e in ef_constructions):
        t = time.process_time()
        hnsw = faiss.IndexHNSWFlat(x.shape[1], m, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = efc
        for s in range(0, n, 100_000):
            hnsw.add(x[s : s + 100_000])
        build = round(time.process_time() - t, 1)
        grid = [
            (
                ef,
                faiss.SearchParametersHNSW(efSearch=ef),
                faiss.SearchParametersHNSW(efSearch=ef * FILTER_EVERY, sel=sel),
            )
            for ef in efs
        ]
        name = f"hnsw{m}" + ("" if efc == 80 else f"-efc{efc}")
        settings = sweep(hnsw, grid, queries, truth, ftruth, f"{n} {name}")
        out[name] = {
            "efConstruction": efc,
            "build_cpu_s": build,
            "bytes": len(faiss.serialize_index(hnsw)),
            "settings": settings,
        }
        del hnsw
    if "flat" in candidates:
        out["flat"] = measure_flat(x, queries, truth, sel)
    return out


def main() -> None:
    """Parse arguments, measure each size, print JSON."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="A store with real chunk vectors (read only).")
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--mixed", type=int, default=100, help="Held-out mixed queries besides the domain queries.")
    ap.add_argument("--threads", type=int, default=1, help="FAISS threads (1: per-query CPU time is comparable).")
    ap.add_argument("--candidates", default="flat,ivf-raw,ivf-l2,ivf-centred,ivf-centred-sq8,hnsw32")
    ap.add_argument("--efs", default="32,64,96,128,192,256,384,512,768,1024,1536,2048,3072,4096")
    ap.add_argument("--nlist-factors", default="4", help="IVF lists = each factor * sqrt(n).")
    ap.add_argument("--ef-constructions", default="80", help="HNSW candidate lists while building, one graph each.")
    ap.add_argument(
        "--k-factor", type=int, default=4, help="Re-ranked kinds: shortlist k_factor * k, rescored exactly."
    )
    ap.add_argument("--kmeans-iter", type=int, default=0, help="IVF k-means iterations (0: FAISS's default).")
    args = ap.parse_args()
    global KMEANS_ITER
    KMEANS_ITER = args.kmeans_iter
    faiss.omp_set_num_threads(args.threads)
    kb = KnowledgeBase(Settings(data=args.data))
    src = source_vectors(kb.store)
    domain = kb.encoder.encode_queries(load_queries()).astype(np.float32)
    queries = np.ascontiguousarray(np.concatenate([domain, mixed_queries(src, args.mixed)]))
    result: dict[str, Any] = {"source_vectors": len(src), "queries": {"domain": len(domain), "mixed": args.mixed}}
    for n in [int(s) for s in args.sizes.split(",")]:
        x = synthetic(src, n)
        allowed = np.flatnonzero((np.arange(n) // 100) % FILTER_EVERY == 0).astype(np.int64)
        _, truth = faiss.knn(queries, x, 100, metric=faiss.METRIC_INNER_PRODUCT)
        _, fpos = faiss.knn(queries, x[allowed], 10, metric=faiss.METRIC_INNER_PRODUCT)
        ftruth = allowed[fpos]
        print(f"{n}: ground truth ready", flush=True)
        result[str(n)] = measure(
            x,
            queries,
            truth,
            ftruth,
            allowed,
            args.candidates.split(","),
            [int(e) for e in args.efs.split(",")],
            tuple(int(f) for f in args.nlist_factors.split(",")),
            tuple(int(e) for e in args.ef_constructions.split(",")),
            args.k_factor,
        )
        print(json.dumps({str(n): result[str(n)]}), flush=True)
        del x
    print(json.dumps(result))


if __name__ == "__main__":
    main()
