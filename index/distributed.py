"""Distributed ingestion on a Ray cluster: `pactkb ingest PATH… --ray ADDRESS` (the optional extra pactkb[distributed]).

The driver (the machine with the store) plans as a local run does (discovery, the incremental decision by content
hash) and stays the single writer; only the planned files' parse → chunk → embed stages move to the cluster:

    driver: plan ─ray.put(bytes)─▶ task: extract ─(scanned pages)─▶ task: OCR ─▶ actor: chunk ─▶ driver: reuse stored
            vectors of identical text ─▶ actors: encode (slices, spread over actors) ─▶ driver: write (one transaction)

- Parsing and OCR are Ray tasks (each phase in the same guarded worker as a local run: time and memory limits).
- Embedding runs in model-holding actors (one per node by default), chosen over Ray Data's `map_batches` because the
  driver must consult the store between chunking and embedding (only texts with no stored vector are embedded, as
  locally), results must come back to the one writer per document, and Ray Data would add pyarrow/pandas and its own
  start-up for no gain at a few files a second. Actors restart on another node when theirs dies, and their calls are
  retried; tasks are retried the same way.
- File bytes travel through the object store (workers need not see the paths); with `ray_shared_paths` the workers
  read the same paths themselves (a shared mount).
- Idempotent by content hash: the driver writes each content once (document ids derive from the hash, and a result
  whose content is already stored is mapped, not written again), so a retried task never duplicates anything.

The `--json` summary is a local run's; only `chunks_embedded` may be higher: the same text in two documents that
are in flight together is embedded by both (a local run, one document at a time, reuses the first one's vector).
Its stage timings are what the workers measured (parse and OCR by the tasks, chunk and encode by the actors: summed
over workers that run side by side, so they can exceed the run's wall time), and the driver's own wait (for the
cluster's next result), write and publish.

Only this module imports Ray, and only `pactkb ingest --ray` imports this module.
"""

from __future__ import annotations

import logging
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import ray

from pactkb.index.encoder_factory import load_encoder
from pactkb.index.pipeline import (
    EMBED_SLICE_BATCHES,
    IngestPipeline,
    IngestSummary,
    PageProgress,
    Plan,
    SourceFile,
    assemble,
    chunk,
)
from pactkb.ingest.guard import guarded_pool, ocr_budget, run_phase, wants_ocr
from pactkb.ingest.parse import ParseOptions
from pactkb.ingest.types import Chunk, ParsedDocument
from pactkb.settings import Settings

log = logging.getLogger(__name__)
RETRIES = 4  # times a task or an actor call is retried (a node lost), and an actor restarted
WINDOW_PER_CPU = 2  # files in flight per cluster CPU: bounds the object store's share of file bytes
LOCAL = "local"  # --ray local: start a single-node cluster in this process
CONNECT_TIMEOUT = 5.0  # seconds to wait for a host:port address to accept a connection


class RayUnavailable(RuntimeError):
    """The Ray cluster cannot be reached or started."""


# -- on the workers ------------------------------------------------------------------------------------------------
_POOLS: dict[int, Any] = {}  # one guarded parse worker per Ray worker process (reused by its later tasks)


def _pool(settings: Settings) -> Any:
    """This Ray worker's guarded parse worker (None when parsing runs in-process, parse_workers=0)."""
    if settings.parse_workers <= 0:
        return None
    if settings.file_memory_mb not in _POOLS:
        _POOLS[settings.file_memory_mb] = guarded_pool(1, settings.file_memory_mb)
    return _POOLS[settings.file_memory_mb]


@contextmanager
def _readable(payload: bytes | str, name: str) -> Iterator[Path]:
    """A path to the file on this worker: the shared path itself, or the bytes written under the file's own name
    (metadata inference reads the name) in a temporary folder."""
    if isinstance(payload, str):
        yield Path(payload)
        return
    with tempfile.TemporaryDirectory(prefix="pactkb-ray-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(payload)
        yield path


def _phase(
    ocr: bool, payload: bytes | str, source: SourceFile, settings: Settings, pdf_text: str, doc: ParsedDocument | None
) -> Any:
    """Run one parse phase on this worker, PDFs read by `pdf_text`; (document or error, whether it waits for OCR), the
    document's path the driver's own."""
    opts = ParseOptions.from_settings(settings, source.overrides, pdf_text)
    with _readable(payload, source.path.name) as local:
        if doc is not None:
            doc.path = local
        item = doc if doc is not None else local
        timeout = ocr_budget(doc, settings.file_timeout, settings.ocr_page_timeout) if doc else settings.file_timeout
        result = run_phase(ocr, item, opts, _pool(settings), timeout, settings.file_memory_mb)
    if isinstance(result, str):
        return result, False
    result.path = source.path
    return result, not ocr and wants_ocr(result, opts)


@ray.remote
def extract_task(
    payload: bytes | str, source: SourceFile, settings: Settings, pdf_text: str
) -> tuple[ParsedDocument | str, bool]:
    """Parse task: pages of one file, a PDF's read by `pdf_text` (finished unless scanned pages wait for OCR)."""
    return _phase(False, payload, source, settings, pdf_text, None)


@ray.remote
def ocr_task(
    payload: bytes | str, source: SourceFile, settings: Settings, pdf_text: str, doc: ParsedDocument
) -> tuple[ParsedDocument | str, bool]:
    """OCR task: the scanned pages of one extracted file, then the finished document."""
    return _phase(True, payload, source, settings, pdf_text, doc)


@ray.remote
class EmbedActor:
    """Holds the encoder (loaded once per actor): chunks parsed documents and embeds texts."""

    def __init__(self, settings: Settings) -> None:
        """Load the model these settings name."""
        self.settings = settings
        self.encoder = load_encoder(settings)

    def identity(self) -> tuple[str, int]:
        """The encoder's name and dimension (the driver checks them against the store's)."""
        return self.encoder.name, self.encoder.dim

    def node(self) -> str:
        """The id of the Ray node this actor runs on."""
        return ray.get_runtime_context().get_node_id()

    def chunk(self, doc: ParsedDocument) -> tuple[list[Chunk], float]:
        """The chunk stage (the model's tokenizer counts tokens) and the seconds it took."""
        t0 = time.perf_counter()
        return chunk(doc, self.encoder, self.settings), time.perf_counter() - t0

    def encode(self, texts: list[str], batch_size: int) -> tuple[np.ndarray, float]:
        """Vectors of texts and the seconds they took."""
        t0 = time.perf_counter()
        return self.encoder.encode(texts, batch_size=batch_size), time.perf_counter() - t0


# -- on the driver -------------------------------------------------------------------------------------------------
@dataclass
class _Job:
    """One planned file on its way through the cluster."""

    source: SourceFile
    payload: Any  # an object reference to the bytes, or the shared path
    doc: ParsedDocument | None = None
    chunks: list[Chunk] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)
    reuse: dict[str, bytes] = field(default_factory=dict)
    todo: list[tuple[str, str]] = field(default_factory=list)
    parts: dict[int, np.ndarray] = field(default_factory=dict)
    slices: int = 0
    failed: bool = False  # reported once; later results for it are dropped


@dataclass
class _Call:
    """A reference in flight: its stage, its file, and the actor and slice it is for."""

    stage: str  # parse (extract or OCR), chunk or encode
    job: _Job
    actor: int = -1
    part: int = -1


class RayIngest:
    """A `TodoRunner` (index/pipeline.py): the planned files' parse → embed stages on the cluster, written here."""

    def __init__(self, pipeline: IngestPipeline, on_written: Callable[[str], None] | None = None) -> None:
        """Run for this pipeline (its store, encoder name and settings); `on_written` hears each written document."""
        self.pipeline = pipeline
        self.on_written = on_written
        self.actors: list[Any] = []
        self.load: list[int] = []  # calls in flight per actor
        self.inflight: dict[Any, _Call] = {}
        self.done = 0  # files finished (written or failed), for the progress bar
        self.pdf_text = ""  # the PDF text extractor of the plan being run (the store's: Plan.pdf_text)

    @property
    def settings(self) -> Settings:
        """The pipeline's settings."""
        return self.pipeline.settings

    # -- the actors --------------------------------------------------------------------------------------------------
    def _start_actors(self) -> None:
        """Start the embedding actors, spread over the nodes, and check they hold the store's encoder."""
        s = self.settings
        count = s.ray_embedders or max(1, sum(1 for n in ray.nodes() if n["Alive"] and n["Resources"].get("CPU")))
        options = {"num_cpus": s.ray_embedder_cpus, "max_restarts": RETRIES, "max_task_retries": RETRIES}
        self.actors = [
            EmbedActor.options(scheduling_strategy="SPREAD", **options).remote(s)  # type: ignore[attr-defined]
            for _ in range(count)
        ]
        self.load = [0] * count
        expected = self.pipeline.encoder.name
        for name, _dim in ray.get([a.identity.remote() for a in self.actors]):
            if name != expected:
                raise RayUnavailable(f"the Ray workers load encoder {name}, the store holds {expected}")
        log.info("ray: %d embedding actor(s), %s CPU each", count, s.ray_embedder_cpus)
        self.pipeline._bind()  # the store records the model before the first vector is written (as locally)

    def _call(self, stage: str, job: _Job, part: int, method: str, *args: Any) -> None:
        """Call the least busy actor for a job."""
        i = self.load.index(min(self.load))
        self.load[i] += 1
        self.inflight[getattr(self.actors[i], method).remote(*args)] = _Call(stage, job, i, part)

    # -- the run -----------------------------------------------------------------------------------------------------
    def _payload(self, source: SourceFile) -> Any:
        """What the workers read the file from: the shared path, or its bytes in the object store."""
        if self.settings.ray_shared_paths:
            return str(source.path)
        return ray.put(source.path.read_bytes())

    def _task_options(self) -> dict[str, Any]:
        """Resources and retries of a parse or OCR task."""
        return {"num_cpus": self.settings.ray_parse_cpus, "max_retries": RETRIES}

    def __call__(self, plan: Plan, bar: PageProgress, summary: IngestSummary) -> bool:
        """Parse, chunk and embed the planned files on the cluster; write each here as it completes."""
        if not plan.todo:
            return False
        self.pdf_text = plan.pdf_text
        self._start_actors()
        window = max(2, WINDOW_PER_CPU * int(ray.cluster_resources().get("CPU", 1)))
        queue = list(plan.todo)
        while queue or self.inflight:
            while queue and len({id(c.job) for c in self.inflight.values()}) < window:  # files held in memory
                self._submit(queue.pop(0), bar, summary)
            if not self.inflight:
                continue
            with summary.timed("wait"):
                [ref], _ = ray.wait(list(self.inflight), num_returns=1)
            call = self.inflight.pop(ref)
            if call.actor >= 0:
                self.load[call.actor] -= 1
            job = call.job
            try:
                outcome = self._received(call, ray.get(ref), summary)
            except ray.exceptions.RayError as exc:  # retries exhausted: this file fails, the run goes on
                outcome = f"lost on the Ray cluster: {type(exc).__name__}: {str(exc).splitlines()[0]}"
            if job.failed:
                continue
            if isinstance(outcome, str):
                job.failed = True
                self._finish(job.source, bar)
                summary.failed.append({"file": str(job.source.path), "error": outcome})
            elif job.chunks and len(job.parts) == job.slices:
                self._write(job, bar, summary)
        return bool(summary.documents)

    def _received(self, call: _Call, value: Any, summary: IngestSummary) -> bool | str:
        """Take a finished call's value to the job's next stage; an error message if the file failed."""
        if call.job.failed:
            return True
        if call.stage == "parse":
            return self._parsed(value, call.job, summary)
        result, seconds = value
        summary.stages[call.stage] += seconds  # the actor's time, as parse and OCR are the tasks'
        if call.stage == "chunk":
            return self._chunked(result, call.job, summary)
        call.job.parts[call.part] = result
        summary.encode_seconds += seconds
        return True

    def _submit(self, source: SourceFile, bar: PageProgress, summary: IngestSummary) -> None:
        """Send a file's bytes (or path) and its parse task."""
        try:
            job = _Job(source, self._payload(source))
        except OSError as exc:
            self._finish(source, bar)
            summary.failed.append({"file": str(source.path), "error": f"cannot read: {exc.strerror or exc}"})
            return
        ref = extract_task.options(**self._task_options()).remote(job.payload, source, self.settings, self.pdf_text)
        self.inflight[ref] = _Call("parse", job)

    def _parsed(self, outcome: tuple[ParsedDocument | str, bool], job: _Job, summary: IngestSummary) -> bool | str:
        """A parse or OCR task finished: OCR next, or chunk next (the document's parse and OCR timings, measured by
        the tasks, counted); an error message if it failed."""
        result, needs_ocr = outcome
        if isinstance(result, str):
            return result
        if needs_ocr:
            opts = self._task_options()
            ref = ocr_task.options(**opts).remote(job.payload, job.source, self.settings, self.pdf_text, result)
            self.inflight[ref] = _Call("parse", job)
            return True
        summary.count_parsed(result)
        job.doc = result
        self._call("chunk", job, -1, "chunk", result)
        return True

    def _chunked(self, chunks: list[Chunk], job: _Job, summary: IngestSummary) -> bool | str:
        """Chunks are back: reuse stored vectors of identical text, send the rest to the actors in slices."""
        if not chunks:
            return "no text to index"
        job.chunks = chunks
        job.hashes, job.reuse, job.todo = self.pipeline.embedder.plan(chunks)
        texts = [t for _, t in job.todo]
        step = self.settings.batch_size * EMBED_SLICE_BATCHES
        for n, i in enumerate(range(0, len(texts), step)):
            self._call("encode", job, n, "encode", texts[i : i + step], self.settings.batch_size)
        job.slices = -(-len(texts) // step)
        summary.chunks_embedded += len(texts)
        return True

    def _finish(self, source: SourceFile, bar: PageProgress) -> None:
        """A file is done (written or failed): the progress bar moves past its pages."""
        self.done += 1
        bar.start(self.done, [source.path])
        bar.advance(1.0)

    def _write(self, job: _Job, bar: PageProgress, summary: IngestSummary) -> None:
        """The write stage for one embedded document, here (the single writer), once per content."""
        doc = job.doc
        assert doc is not None
        fresh = {}
        if job.slices:
            vectors = np.concatenate([job.parts[i] for i in range(job.slices)])
            fresh = dict(zip((h for h, _ in job.todo), vectors, strict=True))
        new_chunks = assemble(job.chunks, job.hashes, job.reuse, fresh)
        same = self.pipeline.store.document_by_sha(doc.sha256, origin="path")
        if same is not None:  # this content is stored already (a repeated result): map the path, write nothing
            self.pipeline.writer.map_path(job.source.path, same.id, doc.sha256)
            summary.unchanged += 1
            doc_id = same.id
        else:
            doc_id = self.pipeline.write_parsed(doc, new_chunks, str(job.source.path), summary)
        summary.documents.append(doc_id)
        job.chunks = []
        self._finish(job.source, bar)
        if self.on_written is not None:
            self.on_written(doc_id)


# -- connecting ----------------------------------------------------------------------------------------------------
def check_reachable(address: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """Fail fast when nothing listens at a host:port address (Ray itself retries for minutes before giving up)."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return  # auto, local, or a form Ray resolves itself
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise RayUnavailable(f"--ray {address}: no Ray cluster answers there ({exc.strerror or exc})") from exc


@contextmanager
def ray_cluster(address: str, settings: Settings) -> Iterator[None]:
    """Connected to the Ray cluster at `address` (auto, local or host:port) for the block; a cluster this process
    started (local) is shut down after it, a joined one is left running."""
    started = False
    if not ray.is_initialized():
        try:
            if address == LOCAL:
                ray.init(
                    address="local",  # a new cluster, never one already running on this machine
                    object_store_memory=settings.ray_object_store_mb * 1024 * 1024,
                    include_dashboard=False,
                    log_to_driver=False,
                    configure_logging=False,
                )
            else:
                check_reachable(address)
                ray.init(address=address, log_to_driver=False, configure_logging=False)
        except RayUnavailable:
            raise
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise RayUnavailable(f"--ray {address}: cannot reach or start the Ray cluster: {exc}") from exc
        started = True
    try:
        yield
    finally:
        if started:
            ray.shutdown()
