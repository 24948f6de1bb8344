"""Evaluate pactkb on BEIR-layout collections (corpus.jsonl, queries.jsonl, qrels/<split>.tsv).

The index is built once per (corpus hash, model, chunking) in a cache directory and reused.
Documents are ranked by their best passage; metrics come from ranx.
"""

from __future__ import annotations

import csv
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pactkb.evaluation.metrics import METRICS, evaluate, percentile
from pactkb.index.embed import weights_fingerprint
from pactkb.index.encoder import Encoder
from pactkb.index.encoder_factory import encoder_identity
from pactkb.index.kb import KnowledgeBase
from pactkb.ingest.parse import file_sha256
from pactkb.ingest.record import Record
from pactkb.settings import Settings

INDEX_VERSION = "1"  # bump when chunking or the store layout changes in a way that alters results


class CollectionError(ValueError):
    """The folder is not a usable BEIR collection; the message names the missing part."""


@dataclass
class Collection:
    """A BEIR collection on disk."""

    root: Path
    split: str

    @property
    def name(self) -> str:
        """The collection's folder name."""
        return self.root.name

    def validate(self) -> None:
        """Raise CollectionError naming what is missing."""
        for rel in ("corpus.jsonl", "queries.jsonl", f"qrels/{self.split}.tsv"):
            if not (self.root / rel).is_file():
                raise CollectionError(f"{self.root}: missing {rel}")

    def corpus(self) -> Iterator[Record]:
        """Documents as records."""
        with open(self.root / "corpus.jsonl", encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    d = json.loads(line)
                    yield Record(id=str(d["_id"]), title=d.get("title") or "", text=d.get("text") or "")

    def corpus_size(self) -> int:
        """Number of documents."""
        with open(self.root / "corpus.jsonl", "rb") as fh:
            return sum(1 for line in fh if line.strip())

    def fingerprint(self) -> str:
        """sha256 of corpus.jsonl (the cache key's content part)."""
        return file_sha256(self.root / "corpus.jsonl")[0]

    def qrels(self) -> dict[str, dict[str, int]]:
        """Judgments of the split: query id → {doc id: grade}."""
        out: dict[str, dict[str, int]] = {}
        with open(self.root / "qrels" / f"{self.split}.tsv", encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh, delimiter="\t")
            for row in reader:
                if len(row) < 3 or row[0].strip().lower() in ("query-id", "query_id", "qid"):
                    continue
                qid, did, grade = row[0].strip(), row[1].strip(), int(float(row[2]))
                if grade > 0:
                    out.setdefault(qid, {})[did] = grade
        return out

    def queries(self, ids: set[str]) -> dict[str, str]:
        """Query texts for the given ids."""
        out: dict[str, str] = {}
        with open(self.root / "queries.jsonl", encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    q = json.loads(line)
                    if str(q["_id"]) in ids:
                        out[str(q["_id"])] = q["text"]
        return out


def cache_dir_for(coll: Collection, settings: Settings) -> Path:
    """Where the collection's index lives for these settings."""
    identity = encoder_identity(settings)
    if fp := weights_fingerprint(settings.model):
        identity += f"-w{fp}"
    slug = re.sub(r"[^A-Za-z0-9.]+", "-", identity).strip("-")
    key = f"{coll.fingerprint()[:16]}-{slug}-c{settings.chunk_tokens}o{settings.chunk_overlap}-v{INDEX_VERSION}"
    return settings.resolved_cache_dir() / "eval" / f"{coll.name}-{key}"


def build_index(
    coll: Collection, settings: Settings, encoder: Encoder | None = None, progress: bool = False
) -> tuple[KnowledgeBase, dict[str, Any]]:
    """Open (building or completing if needed) the cached index of a collection."""
    data = cache_dir_for(coll, settings)
    # evaluation collections are embedded stores of their own, never written into a shared PostgreSQL store
    kb = KnowledgeBase(settings.model_copy(update={"data": data, "database_url": None}), encoder=encoder)
    info: dict[str, Any] = {"index_dir": str(data), "documents": coll.corpus_size()}
    build_file = data / "build.json"
    if kb.store.counts()["documents"] < info["documents"]:
        summary = kb.indexer.add_records(coll.corpus(), progress=progress, total=info["documents"])
        build = {
            "index_seconds": summary.seconds,
            "chunks_embedded": summary.chunks_embedded,
            "encode_seconds": round(summary.encode_seconds, 2),
        }
        build_file.write_text(json.dumps(build))
        info.update(build)
    elif build_file.exists():  # reused: report how long the build took when it was made
        info.update({"cached": True, **json.loads(build_file.read_text())})
    info["chunks"] = kb.store.counts()["chunks"]
    return kb, info


def judged_index(
    coll: Collection, settings: Settings
) -> tuple[dict[str, dict[str, int]], dict[str, str], KnowledgeBase, dict[int, str]]:
    """The split's judgments and query texts, the collection's index, and chunk id → collection document id."""
    qrels = coll.qrels()
    queries = coll.queries(set(qrels))
    kb, _ = build_index(coll, settings)
    doc_of = kb.store.chunk_documents()
    return qrels, queries, kb, doc_of


def judged_queries(coll: Collection, limit: int | None = None) -> tuple[dict[str, dict[str, int]], dict[str, str]]:
    """The split's judgments and query texts (the first `limit` judged queries), after checking the collection."""
    coll.validate()
    qrels = coll.qrels()
    queries = coll.queries(set(qrels))
    if limit:
        queries = dict(list(queries.items())[:limit])
    qrels = {q: qrels[q] for q in queries}
    missing = set(qrels) - set(queries)
    if missing:
        raise CollectionError(f"{len(missing)} judged queries have no text in queries.jsonl")
    return qrels, queries


@dataclass
class ModeReport:
    """Scores and latency of one retrieval mode."""

    mode: str
    metrics: dict[str, float]
    latency_ms: dict[str, float]
    per_query: dict[str, dict[str, float]] = field(default_factory=dict)


def run_queries(
    kb: KnowledgeBase, queries: dict[str, str], mode: str, k: int = 100, vecs: np.ndarray | None = None
) -> tuple[dict[str, dict[str, float]], list[float]]:
    """Document-level run (best passage per document) and per-query latencies in ms (`vecs`: the queries' vectors in
    order, when already encoded)."""
    searcher = kb.searcher
    ids = list(queries)
    if vecs is None and mode != "lexical":
        vecs = kb.encoder.encode_queries([queries[q] for q in ids])
    run: dict[str, dict[str, float]] = {}
    lat: list[float] = []
    for i, qid in enumerate(ids):
        t0 = time.perf_counter()
        res = searcher.search(
            queries[qid],
            k=k,
            mode=mode,
            group_by_document=True,
            collapse=False,
            snippets=False,
            depth=max(kb.settings.candidates, 3 * k),
            qvec=vecs[i] if vecs is not None else None,
        )
        lat.append((time.perf_counter() - t0) * 1000)
        n = len(res.results)
        run[qid] = {h.document_id: float(n - r) for r, h in enumerate(res.results)}
    return run, lat


def evaluate_collection(
    root: Path,
    settings: Settings,
    split: str = "test",
    modes: tuple[str, ...] = ("hybrid",),
    encoder: Encoder | None = None,
    progress: bool = False,
    limit: int | None = None,
) -> dict[str, Any]:
    """Build or reuse the index, run every query of the split in each mode, and score it."""
    coll = Collection(Path(root), split)
    qrels, queries = judged_queries(coll, limit)
    kb, info = build_index(coll, settings, encoder, progress)
    reports = []
    for mode in modes:
        run, lat = run_queries(kb, queries, mode)
        reports.append(ModeReport(mode, evaluate(qrels, run), {"p50": percentile(lat, 50), "p95": percentile(lat, 95)}))
    return {
        "collection": coll.name,
        "split": split,
        "queries": len(queries),
        "model": kb.encoder.name,
        **info,
        "settings": {
            k: getattr(settings, k)
            for k in (
                "rrf_k",
                "weight_dense",
                "weight_lexical",
                "candidates",
                "lexical_title_weight",
                "chunk_tokens",
                "chunk_overlap",
                "encoder",
            )
        },
        "modes": [
            {"mode": r.mode, **r.metrics, "latency_p50_ms": r.latency_ms["p50"], "latency_p95_ms": r.latency_ms["p95"]}
            for r in reports
        ],
    }


def format_table(result: dict[str, Any]) -> str:
    """A markdown table of every mode side by side."""
    head = ["mode", *METRICS, "p50 ms", "p95 ms"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for m in result["modes"]:
        cells = [
            m["mode"],
            *(f"{m[x]:.4f}" for x in METRICS),
            f"{m['latency_p50_ms']:.1f}",
            f"{m['latency_p95_ms']:.1f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
