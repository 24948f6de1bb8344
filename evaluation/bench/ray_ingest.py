"""Distributed ingestion's overhead on one machine: the local pipeline beside `--ray local` on the same files.

    python -m pactkb.evaluation.bench.ray_ingest [--corpus ../shared/corpus/pdf] [--files N] [--model NAME]
        [--embedders K] [--json]

Both runs ingest into fresh data directories with the same settings; the Ray run starts a single-node cluster here
(its start-up is reported apart) with K embedding actors. Printed: seconds, pages/s and chunks/s of each, the
overhead (Ray ÷ local), and whether both stores hold the same documents and chunks (largest vector difference).
`--files N` takes the first N files by name (a named subset, for a busy machine). Needs pactkb[distributed].
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from pactkb.index.encoder_factory import encoder_identity
from pactkb.index.kb import KnowledgeBase
from pactkb.index.pipeline import IngestSummary
from pactkb.index.store import Store
from pactkb.ingest.discover import discover
from pactkb.settings import Settings

DEFAULT_CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "pdf"


def timed(settings: Settings, files: list[Path], runner: Any = None) -> tuple[IngestSummary, float]:
    """Ingest the files into the settings' data directory (the model loaded before timing); (summary, seconds)."""
    kb = KnowledgeBase(settings)
    _ = kb.encoder.dim
    t0 = time.perf_counter()
    summary = kb.indexer.ingest(files, run_todo=runner(kb.indexer) if runner else None)
    return summary, time.perf_counter() - t0


def chunk_vectors(data: Path) -> dict[tuple[str, int], np.ndarray]:
    """Each chunk's vector by (document id, chunk number)."""
    store = Store(data)
    try:
        out: dict[tuple[str, int], np.ndarray] = {}
        for row in store.all_files():
            chunks = store.doc_chunks(row["doc_id"])
            vectors = store.vectors([c["id"] for c in chunks])
            out |= {(row["doc_id"], c["ord"]): vectors[c["id"]] for c in chunks}
        return out
    finally:
        store.close()


def figures(summary: IngestSummary, seconds: float) -> dict[str, Any]:
    """What one run did and how fast."""
    return {
        "indexed": summary.indexed,
        "failed": len(summary.failed),
        "pages": summary.pages,
        "pages_ocr": summary.pages_ocr,
        "chunks": summary.chunks,
        "chunks_embedded": summary.chunks_embedded,
        "seconds": round(seconds, 1),
        "pages_per_s": round(summary.pages / seconds, 2),
        "chunks_per_s": round(summary.chunks / seconds, 2),
        "encode_seconds": round(summary.encode_seconds, 1),
    }


def run(files: list[Path], settings: Settings, embedders: int) -> dict[str, Any]:
    """Local ingest, then the same on a Ray cluster started here; their figures and whether the stores agree."""
    from pactkb.index.distributed import LOCAL, RayIngest, ray_cluster

    with tempfile.TemporaryDirectory(prefix="pactkb-bench-ray-") as tmp:
        local_settings = settings.model_copy(update={"data": Path(tmp) / "local"})
        local, local_s = timed(local_settings, files)
        ray_settings = settings.model_copy(update={"data": Path(tmp) / "ray", "ray_embedders": embedders})
        t0 = time.perf_counter()
        with ray_cluster(LOCAL, ray_settings):
            start_s = time.perf_counter() - t0
            distributed, ray_s = timed(ray_settings, files, RayIngest)
        a, b = chunk_vectors(Path(tmp) / "local"), chunk_vectors(Path(tmp) / "ray")
        worst = max((float(np.abs(a[k] - b[k]).max()) for k in a.keys() & b.keys()), default=0.0)
    return {
        "files": len(files),
        "encoder": encoder_identity(settings),
        "embedders": embedders,
        "local": figures(local, local_s),
        "ray_local": figures(distributed, ray_s),
        "ray_start_seconds": round(start_s, 1),
        "overhead_ratio": round(ray_s / local_s, 3),
        "overhead_ratio_with_start": round((ray_s + start_s) / local_s, 3),
        "same_documents": sorted(local.documents) == sorted(distributed.documents),
        "same_chunks": a.keys() == b.keys(),
        "max_vector_difference": worst,
    }


def main() -> None:
    """Parse arguments, run, print."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--files", type=int, default=0, help="Only the first N files by name (0 = all).")
    ap.add_argument("--model", default=None, help="Embedding model (default: the settings' model).")
    ap.add_argument("--embedders", type=int, default=1, help="Embedding actors of the Ray run (default 1).")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    settings = Settings(**({"model": args.model} if args.model else {}))
    files = sorted(discover([args.corpus]).files)
    files = files[: args.files] if args.files else files
    result = {"corpus": str(args.corpus), "subset": bool(args.files), **run(files, settings, args.embedders)}
    if args.json:
        print(json.dumps(result))
        return
    for run_name in ("local", "ray_local"):
        f = result[run_name]
        print(
            f"{run_name:9s} {f['indexed']} docs, {f['pages']} pages, {f['chunks']} chunks in {f['seconds']} s "
            f"({f['pages_per_s']} pages/s, {f['chunks_per_s']} chunks/s)"
        )
    print(
        f"Ray start-up {result['ray_start_seconds']} s; overhead ×{result['overhead_ratio']} "
        f"(×{result['overhead_ratio_with_start']} with start-up); same documents {result['same_documents']}, "
        f"same chunks {result['same_chunks']}, largest vector difference {result['max_vector_difference']:.2e}"
    )


if __name__ == "__main__":
    main()
