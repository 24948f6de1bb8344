"""The one ingestion pipeline: discover → parse → chunk → embed → write → publish.

The command line (`pactkb ingest`), the upload job runner (api/jobs.py), evaluation corpora (text records) and
benchmarks all ingest through `IngestPipeline`. Each stage is a small function or class whose input and output are
the dataclasses below (or ingest's `ParsedDocument` / `Chunk` and the store's `NewChunk`), so a stage can later run
elsewhere (another process or machine) without the others changing:

    paths ─discover→ Discovery ─plan→ [SourceFile] ─parse→ ParsedDocument ─chunk→ [Chunk]
          ─embed→ Embedded ─write→ document id ─publish→ FAISS file (+ the bridge's English words)

Overlap: worker processes parse (and OCR) ahead while this process chunks, encodes and writes; the chunks of several
documents are encoded together (longest first, so a batch pads little), and the encoder never waits for a parse while
it has chunks in hand. Every stage's time is counted in `IngestSummary.stages`.

Crash safety: each document is written in one SQLite transaction (document, pages, chunks, vectors, FTS rows and
change-log entries together), so killing the process at any moment leaves the previous state (documents encoded but
not yet written are parsed again by the next run); the FAISS file is published atomically at the end. Only one writer
runs at a time (a file lock, `WRITER_LOCK`). Incrementality: a file whose content hash is already stored embeds
nothing, and chunks whose text is already stored reuse its vector.
It lives in index/ because index/ is the lowest layer that may import both ingest/ (parsing, chunking) and the store.
"""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock, Timeout
from tqdm import tqdm

from pactkb.index.encoder import Encoder
from pactkb.index.encoder_factory import LazyEncoder, encoder_facts
from pactkb.index.extractor_record import check_switch_covers, choose_extractor, finish_switch, stored_extractor
from pactkb.index.lexical import lexical_index
from pactkb.index.store import DocumentRecord, NewChunk, Store, blob_vector
from pactkb.index.vectors import VectorIndex, vector_index
from pactkb.index.writer import WRITER_LOCK, DocumentWriter, insert
from pactkb.ingest.chunk import Chunker, TokenCounter, TokenizerCounter
from pactkb.ingest.discover import Discovery, discover
from pactkb.ingest.guard import ParseStream, parse_all
from pactkb.ingest.manifest import ManifestLookup
from pactkb.ingest.parse import ParseOptions, estimate_pages, file_sha256
from pactkb.ingest.record import Record, record_document
from pactkb.ingest.types import Chunk, ParsedDocument
from pactkb.settings import Settings, stricter

log = logging.getLogger(__name__)
EMBED_SLICE_BATCHES = 4  # encoder batches per slice: a progress bar moves through a 400-page document too
POOL_BATCHES = 16  # documents' chunks gathered up to this many encoder batches before encoding them together
STAGES = ("parse", "ocr", "wait", "chunk", "encode", "write", "publish")  # IngestSummary.stages, in flow order
RECORD_BATCH = 256  # text records embedded and written together


# -- what crosses the stage boundaries ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SourceFile:
    """A file to parse (plan → parse): its path, the metadata overrides that apply to it, and its content hash
    when known (files from folders; uploads are hashed by the parser)."""

    path: Path
    overrides: dict[str, Any] = field(default_factory=dict)
    sha256: str | None = None


@dataclass
class Plan:
    """What discovery left to do (plan → parse): files to parse, the PDF text extractor to read them with (the
    store's, index/extractor_record.py: not necessarily the configured one), and files whose content another file of
    this run already brings (mapped to that document afterwards), keyed by content hash."""

    pdf_text: str
    todo: list[SourceFile] = field(default_factory=list)
    aliases: list[tuple[Path, str]] = field(default_factory=list)
    first_of: dict[str, Path] = field(default_factory=dict)
    changed: bool = False  # the store changed while planning (a file left a document that was then deleted)


@dataclass
class Embedded:
    """Chunks with vectors ready to write (embed → write), and what embedding them cost."""

    chunks: list[NewChunk]
    embedded: int = 0  # how many vectors were computed (the rest reused stored vectors of identical text)
    seconds: float = 0.0


@dataclass(frozen=True)
class Placement:
    """Where the write stage puts a document: the path it maps (files from folders), its origin, owner and shown
    name (uploads), and the document it replaces."""

    path_key: str | None = None
    origin: str = "path"
    owner: str | None = None
    source_name: str | None = None
    replace_id: str | None = None


@dataclass
class Upload:
    """One uploaded file of a job (job runner → pipeline): where it was saved, its name, its metadata."""

    path: Path
    source_name: str
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass
class UploadOutcome:
    """What became of one upload: indexed, duplicate (the uploader can already see the same file) or failed."""

    status: str
    document_id: str | None = None
    chunks: int = 0
    error: str | None = None


@dataclass
class IngestSummary:
    """What an ingestion run did (the `--json` output)."""

    files: int = 0
    indexed: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)  # files in the folders that are not ingested, with why
    chunks: int = 0
    chunks_embedded: int = 0
    pages: int = 0
    pages_ocr: int = 0
    pages_scanned: int = 0
    seconds: float = 0.0
    encode_seconds: float = 0.0
    # seconds per stage: parse and ocr are worker time (they overlap the rest); wait is this process waiting for a
    # parse result with nothing to encode; chunk, encode, write and publish are this process's own time
    stages: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    worker_cpu_seconds: float = 0.0  # CPU the parse workers spent on the written documents (OCR tools included)
    warnings: list[dict[str, str]] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    removed_documents: list[str] = field(default_factory=list)  # ids deleted by --prune (for the audit log)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (seconds to the millisecond)."""
        out = asdict(self)
        out["stages"] = {k: round(v, 3) for k, v in self.stages.items()}
        out["worker_cpu_seconds"] = round(self.worker_cpu_seconds, 3)
        return out

    def count_removed(self, doc_ids: Iterable[str]) -> int:
        """Note deleted documents; returns how many."""
        ids = list(doc_ids)
        self.removed += len(ids)
        self.removed_documents.extend(ids)
        return len(ids)

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        """Add the time spent inside the block to a stage."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.stages[stage] = self.stages.get(stage, 0.0) + time.perf_counter() - t0

    def count_parsed(self, doc: ParsedDocument) -> None:
        """Add a parsed document's parse and OCR time (spent in a worker) to the stages, and its CPU time."""
        for stage, seconds in doc.timings.items():
            if stage.endswith("_cpu"):
                self.worker_cpu_seconds += seconds
            else:
                self.stages[stage] = self.stages.get(stage, 0.0) + seconds

    def count_written(self, doc: ParsedDocument, chunks: int) -> None:
        """Note a written document and what parsing it said."""
        self.indexed += 1
        self.chunks += chunks
        self.pages += len(doc.pages)
        self.pages_ocr += doc.pages_ocr
        self.pages_scanned += doc.pages_scanned
        self.warnings.extend({"file": str(doc.path), "warning": w} for w in doc.warnings)


# -- the stages ----------------------------------------------------------------------------------------------------
def parse(files: list[SourceFile], settings: Settings, pdf_text: str) -> Iterator[tuple[Path, ParsedDocument | str]]:
    """Parse files in guarded worker processes, PDFs read by `pdf_text`: (path, parsed document or a one-line error),
    OCR'd files last."""
    jobs = [(f.path, ParseOptions.from_settings(settings, f.overrides, pdf_text)) for f in files]
    s = settings
    yield from parse_all(jobs, s.parse_workers, s.file_timeout, s.file_memory_mb, s.ocr_page_timeout)


def parse_stream(
    files: list[SourceFile], settings: Settings, pdf_text: str, chunks: Chunker | None = None
) -> ParseStream:
    """The parse stage as a stream that says whether its next result is ready (use it as a context manager), PDFs
    read by `pdf_text`; with a picklable chunker, the parse workers chunk what they parse too."""
    jobs = [(f.path, ParseOptions.from_settings(settings, f.overrides, pdf_text)) for f in files]
    s = settings
    return ParseStream(
        jobs, s.parse_workers, s.file_timeout, s.file_memory_mb, s.ocr_page_timeout, s.parse_nice, chunks
    )


def chunker(encoder: Encoder, settings: Settings, count: TokenCounter | None = None) -> Chunker:
    """The chunk stage for this encoder's token limits (counting with `count`, by default the encoder's own)."""
    target = settings.chunk_tokens or int(getattr(encoder, "chunk_tokens", encoder.max_tokens))
    return Chunker(count or encoder.count_tokens, encoder.max_tokens, target, settings.chunk_overlap)


def chunk(doc: ParsedDocument, encoder: Encoder, settings: Settings) -> list[Chunk]:
    """Chunks of a parsed document within the encoder's token limit."""
    return chunker(encoder, settings)(doc)


def portable_chunker(encoder: Encoder, settings: Settings) -> Chunker | None:
    """The chunk stage in a form parse workers can receive (the encoder's tokenizer, or its own counter if that
    pickles), so that they chunk what they parse; None when neither can be sent (then this process chunks)."""
    inner = encoder.inner() if isinstance(encoder, LazyEncoder) else encoder
    tokenizer = getattr(inner, "tokenizer", None)
    sample = "Chunk boundaries: the same counts, in workers as here (ćirilica, кирилица)."
    candidates: list[TokenCounter] = [inner.count_tokens]
    if tokenizer is not None:
        candidates.insert(0, TokenizerCounter(tokenizer))
    for count in candidates:
        try:
            pickle.dumps(count)
        except Exception:  # noqa: BLE001 - an encoder holding a runtime object does not pickle: try the next
            continue
        if count(sample) == inner.count_tokens(sample):
            return chunker(encoder, settings, count)
    return None


def text_hash(text: str) -> str:
    """Identity of a chunk's embedded text, for reusing vectors."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class Embedder:
    """The embed stage: vectors for chunks, reusing the store's vectors of identical text."""

    def __init__(self, encoder: Encoder, store: Store, batch_size: int) -> None:
        """Embed with this encoder, reusing vectors from this store."""
        self.encoder = encoder
        self.store = store
        self.batch_size = batch_size

    def plan(self, chunks: list[Chunk]) -> tuple[list[str], dict[str, bytes], list[tuple[str, str]]]:
        """The chunks' text hashes, the stored vectors they can reuse, and the (hash, text) pairs left to embed."""
        hashes = [text_hash(c.text) for c in chunks]
        reuse = self.store.vectors_for_hashes(hashes)
        # each new text once, longest first: slices of similar length pad little (a vector does not depend on its
        # batch beyond float rounding)
        unique = {h: c.text for h, c in zip(hashes, chunks, strict=False) if h not in reuse}
        todo = sorted(unique.items(), key=lambda item: (-len(item[1]), item[0]))
        return hashes, reuse, todo

    def __call__(self, chunks: list[Chunk], on_progress: Callable[[float], None] | None = None) -> Embedded:
        """Chunks with vectors; `on_progress` hears the share of the new texts embedded so far."""
        hashes, reuse, todo = self.plan(chunks)
        fresh: dict[str, np.ndarray] = {}
        seconds = 0.0
        if todo:
            t0 = time.perf_counter()
            texts = [t for _, t in todo]
            step = self.batch_size * EMBED_SLICE_BATCHES
            parts = []
            for i in range(0, len(texts), step):
                parts.append(self.encoder.encode(texts[i : i + step], batch_size=self.batch_size))
                if on_progress is not None:
                    on_progress(min(1.0, (i + step) / len(texts)))
            fresh = dict(zip((h for h, _ in todo), np.concatenate(parts), strict=False))
            seconds = time.perf_counter() - t0
        return Embedded(assemble(chunks, hashes, reuse, fresh), len(todo), seconds)


def assemble(
    chunks: list[Chunk], hashes: list[str], reuse: dict[str, bytes], fresh: dict[str, np.ndarray]
) -> list[NewChunk]:
    """Chunks with their vectors (freshly embedded, else the stored vector of identical text), ready to write."""
    return [
        NewChunk(
            c.ord,
            c.text,
            h,
            c.page_start,
            c.page_end,
            c.label_start,
            c.label_end,
            c.section,
            c.n_tokens,
            fresh[h] if h in fresh else blob_vector(reuse[h]),
            c.region,
        )
        for h, c in zip(hashes, chunks, strict=False)
    ]


class PageProgress:
    """A progress bar in pages of the files that need work (unchanged files are not work): files range from 1 to 400
    pages, so a bar in files would promise a wrong time; a page is close to a constant amount of encoding."""

    def __init__(self, files: list[SourceFile], skipped: int, enabled: bool) -> None:
        """Estimate the pages to do (only when the bar is shown: the estimate opens every PDF)."""
        self.pages = {f.path: estimate_pages(f.path) for f in files} if enabled else {}
        self.files, self.skipped = len(files), skipped
        self.bar = tqdm(
            total=sum(self.pages.values()),
            unit="page",
            desc="ingest",
            disable=not enabled,
            file=sys.stderr,
            smoothing=0.05,
        )
        self.bar.set_postfix_str(f"{self.files} file(s) to read, {skipped} skipped")
        self.current, self.credited = 0, 0

    def start(self, n: int, paths: list[Path]) -> None:
        """Files up to the n-th begin (encoded together)."""
        self.bar.set_postfix_str(f"file {n}/{self.files}, {self.skipped} skipped, {paths[-1].name[:30]}")
        self.current, self.credited = sum(self.pages.get(p, 0) for p in paths), 0

    def advance(self, share: float) -> None:
        """Move the bar to `share` of the current files' pages (embedding is most of a file's time)."""
        step = int(self.current * share) - self.credited
        if step > 0:
            self.bar.update(step)
            self.credited += step

    def close(self) -> None:
        """Finish the bar."""
        self.bar.close()


TodoRunner = Callable[["Plan", PageProgress, IngestSummary], bool]  # planned files into the store; True if written


class WriterBusy(RuntimeError):
    """Another ingestion held a writer lock for longer than this one would wait."""

    def __init__(self, where: str) -> None:
        """`where`: the data directory, or the shared store, whose writer lock is held."""
        super().__init__(f"another ingestion holds the writer lock of {where}")
        self.where = where


def hold(lock: Any, timeout: float, where: str) -> None:
    """Acquire a writer lock (a FileLock or the shared store's), saying in the log when it has to wait for it."""
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log.warning("waiting for another ingestion into %s to finish", where)
        try:
            lock.acquire(timeout=timeout)
        except Timeout as exc:
            raise WriterBusy(where) from exc


# -- the pipeline --------------------------------------------------------------------------------------------------
class IngestPipeline:
    """Runs the stages into one store, under its writer lock, and keeps the dense index published."""

    def __init__(
        self, store: Store, encoder: Encoder, settings: Settings, dense_factory: Callable[[], VectorIndex] | None = None
    ) -> None:
        """Check the store's model name now; the model loads (and its dimension is checked) when needed."""
        self.store = store
        self.encoder = encoder
        self.settings = settings
        self.facts = encoder_facts(encoder)
        store.check_model_name(encoder.name, self.facts.precision, self.facts.weights)
        self.writer = DocumentWriter(store)
        self.embedder = Embedder(encoder, store, settings.batch_size)
        self._dense_factory = dense_factory
        self.dense: VectorIndex | None = None
        self._bound = False
        self.lock = FileLock(str(store.data_dir / WRITER_LOCK))
        self.on_embedded: Callable[[float], None] | None = None  # share of the current document's chunks embedded

    def _bind(self) -> None:
        """Record (or verify) the model name and dimension before the first vector is written."""
        if not self._bound:
            f = self.facts
            self.store.bind_model(self.encoder.name, self.encoder.dim, f.precision, f.weights, f.setting)
            self._bound = True

    def _dense(self) -> VectorIndex:
        """The dense index, loaded on first use."""
        if self.dense is None:
            self._bind()
            if self._dense_factory is not None:
                self.dense = self._dense_factory()
            else:
                s = self.settings
                self.dense = vector_index(self.store, self.encoder.dim, s)
                self.dense.load()
        return self.dense

    def chunk(self, doc: ParsedDocument) -> list[Chunk]:
        """The chunk stage with this pipeline's encoder and settings."""
        return chunk(doc, self.encoder, self.settings)

    def embed(self, chunks: list[Chunk], summary: IngestSummary) -> list[NewChunk]:
        """The embed stage (binding the model to the store first), counted in the summary."""
        self._bind()
        with summary.timed("encode"):
            result = self.embedder(chunks, self.on_embedded)
        summary.encode_seconds += result.seconds
        summary.chunks_embedded += result.embedded
        return result.chunks

    # -- files and folders --------------------------------------------------------------------------------------------
    def ingest(
        self,
        paths: Iterable[Path],
        *,
        prune: bool = False,
        sensitivity: str | None = None,
        manifest: Path | None = None,
        progress: bool = False,
        lock_timeout: float = -1,
        run_todo: TodoRunner | None = None,
        reparse: bool = False,
    ) -> IngestSummary:
        """Ingest files and folders; unchanged files embed nothing; failures are reported per file. `run_todo` runs
        the planned files' parse → write stages elsewhere (distributed ingestion, index/distributed.py). `reparse`
        parses stored files again with the current settings (e.g. another PDF text extractor), each replacing its
        document in one transaction; chunks whose text is unchanged keep their vectors."""
        t0 = time.perf_counter()
        summary = IngestSummary()
        roots = [Path(p) for p in paths]
        try:
            with self.writer_locks(lock_timeout):
                self._ingest_locked(roots, summary, prune, sensitivity, manifest, progress, run_todo, reparse)
        except WriterBusy as exc:
            summary.failed.append({"file": exc.where, "error": "another ingestion holds the writer lock"})
        summary.seconds = round(time.perf_counter() - t0, 3)
        return summary

    @contextmanager
    def writer_locks(self, timeout: float = -1) -> Iterator[None]:
        """Hold this data directory's writer lock and, on a replica of the shared store, the cluster-wide one (so no
        two machines ingest at once); waits up to `timeout` seconds for each (-1: as long as it takes)."""
        hold(self.lock, timeout, str(self.store.data_dir))
        try:
            cluster = self.store.cluster_writer_lock()
            if cluster is None:
                yield
                return
            hold(cluster, timeout, cluster.name)
            try:
                yield
            finally:
                cluster.release()
        finally:
            self.lock.release()

    def plan(
        self,
        found: Discovery,
        manifests: ManifestLookup,
        sensitivity: str | None,
        summary: IngestSummary,
        pdf_text: str,
        reparse: bool = False,
    ) -> Plan:
        """The incremental decision per discovered file: unchanged (already stored: its mapping and manifest metadata
        are brought up to date), the same content as an earlier file of this run, or to parse, PDFs by `pdf_text`
        (with `reparse`, a file stored under this path is parsed again too)."""
        plan = Plan(pdf_text)
        for path in found.files:
            overrides, refusal = manifests.for_file(path)
            if refusal is not None:  # stored as it was: nothing indexed is lost, nothing gets a guessed sensitivity
                summary.failed.append({"file": str(path), "error": refusal})
                continue
            if sensitivity:
                overrides["sensitivity"] = stricter(overrides.get("sensitivity"), sensitivity)
            try:
                sha, _ = file_sha256(path)
            except OSError as exc:
                summary.failed.append({"file": str(path), "error": f"cannot read: {exc.strerror or exc}"})
                continue
            entry = self.store.file_entry(str(path))
            same = self.store.document_by_sha(sha, origin="path")  # uploads stay independent documents
            again = reparse and same is not None and entry is not None and entry["doc_id"] == same.id
            if same is not None and not again:
                if entry is None or entry["doc_id"] != same.id:
                    self.writer.map_path(path, same.id, sha)
                    if entry is not None and self.writer.drop_if_orphan(entry["doc_id"]):
                        plan.changed |= summary.count_removed([entry["doc_id"]]) > 0
                self.writer.apply_manifest(same.id, overrides)
                summary.unchanged += 1
                summary.documents.append(same.id)
                continue
            if sha in plan.first_of:  # same content as a file earlier in this run: store it once
                plan.aliases.append((path, sha))
                continue
            plan.first_of[sha] = path
            plan.todo.append(SourceFile(path, overrides, sha))
        summary.warnings.extend(manifests.warnings)
        return plan

    def _ingest_locked(
        self,
        roots: list[Path],
        summary: IngestSummary,
        prune: bool,
        sensitivity: str | None,
        manifest: Path | None,
        progress: bool,
        run_todo: TodoRunner | None = None,
        reparse: bool = False,
    ) -> None:
        """The body of ingest(), run while holding the writer lock: PDFs are read by the store's extractor (one a
        re-parse switches to is recorded when every stored PDF was parsed again; index/extractor_record.py)."""
        choice = choose_extractor(self.store, self.settings, reparse)
        found = discover(roots)
        check_switch_covers(self.store, choice, found.files)
        summary.failed.extend(found.errors)
        summary.skipped.extend(found.skipped)
        summary.files = len(found.files) + len(found.errors)
        plan = self.plan(found, ManifestLookup(roots, manifest), sensitivity, summary, choice.name, reparse)
        bar = PageProgress(plan.todo, len(found.skipped), progress)
        changed = (run_todo or self.run_todo)(plan, bar, summary) or plan.changed
        warning = finish_switch(self.store, choice, [f["file"] for f in summary.failed])
        if warning:
            summary.warnings.append({"file": str(self.store.data_dir), "warning": warning})
        self._map_aliases(plan, summary)
        if prune:
            changed |= summary.count_removed(self.writer.prune()) > 0
        bar.close()
        with summary.timed("publish"):
            if changed or (self.store.log_seq() and not self._dense_published()):
                self.publish()
            elif self.store.log_seq():
                self.refresh_bridge(only_if_missing=True)

    def encode_and_write(
        self, files: list[SourceFile], summary: IngestSummary, bar: PageProgress | None, pdf_text: str
    ) -> bool:
        """Parse files ahead in workers (PDFs by `pdf_text`) while chunking, encoding and writing here: parsed
        documents gather until their chunks fill `POOL_BATCHES` encoder batches, or until the next parse is not ready
        yet (the encoder never idles while it has chunks), then are encoded together and written one transaction
        each. Returns whether any document was written."""
        pool: list[tuple[Path, ParsedDocument, list[Chunk]]] = []
        pool_size = self.settings.batch_size * POOL_BATCHES
        written, n = False, 0

        def flush() -> None:
            nonlocal written
            if bar is not None:
                bar.start(n, [path for path, _, _ in pool])
            self.on_embedded = bar.advance if bar is not None else None
            try:
                vectors = iter(self.embed([c for _, _, cl in pool for c in cl], summary))
            finally:
                self.on_embedded = None
            for path, doc, cl in pool:
                doc_id = self.write_embedded(doc, [next(vectors) for _ in cl], Placement(str(path)), summary)
                summary.documents.append(doc_id)
                written = True
            if bar is not None:
                bar.advance(1.0)
            pool.clear()

        ahead = portable_chunker(self.encoder, self.settings) if files and self.settings.parse_workers else None
        with parse_stream(files, self.settings, pdf_text, ahead) as stream:
            results = iter(stream)
            while True:
                if pool and (sum(len(cl) for _, _, cl in pool) >= pool_size or not stream.ready()):
                    flush()
                with summary.timed("wait"):
                    item = next(results, None)
                if item is None:
                    break
                n += 1
                path, result = item
                chunks: list[Chunk] = []
                if isinstance(result, ParsedDocument):
                    summary.count_parsed(result)
                    if result.chunks is not None:  # chunked by the parse worker
                        chunks = result.chunks
                    else:
                        with summary.timed("chunk"):
                            chunks = self.chunk(result)
                if isinstance(result, str) or not chunks:
                    error = result if isinstance(result, str) else "no text to index"
                    summary.failed.append({"file": str(path), "error": error})
                    if bar is not None:
                        bar.start(n, [path])
                        bar.advance(1.0)
                    continue
                pool.append((path, result, chunks))
            if pool:
                flush()
        return written

    def run_todo(self, plan: Plan, bar: PageProgress, summary: IngestSummary) -> bool:
        """Parse, chunk, embed and write the planned files here, parsing overlapping encoding (the default
        `TodoRunner`); whether any was written."""
        return self.encode_and_write(plan.todo, summary, None if bar.bar.disable else bar, plan.pdf_text)

    def _map_aliases(self, plan: Plan, summary: IngestSummary) -> None:
        """Map the files that repeat an earlier file's content to its document (or report why they could not be)."""
        failed = {f["file"]: f["error"] for f in summary.failed}
        for path, sha in plan.aliases:
            same = self.store.document_by_sha(sha, origin="path")
            if same is None:
                first = str(plan.first_of[sha])
                summary.failed.append(
                    {
                        "file": str(path),
                        "error": f"same content as {Path(first).name}: {failed.get(first, 'not ingested')}",
                    }
                )
            else:
                self.writer.map_path(path, same.id, sha)
                summary.unchanged += 1

    def add_parsed(
        self,
        doc: ParsedDocument,
        *,
        path_key: str | None,
        summary: IngestSummary,
        origin: str = "path",
        owner: str | None = None,
        source_name: str | None = None,
        replace_id: str | None = None,
    ) -> str:
        """Chunk, embed and write one parsed document (replacing the one previously at this path)."""
        with summary.timed("chunk"):
            chunks = self.chunk(doc)
        if not chunks:
            raise ValueError(f"{doc.path}: no text to index")
        new_chunks = self.embed(chunks, summary)
        where = Placement(path_key, origin, owner, source_name, replace_id)
        return self.write_embedded(doc, new_chunks, where, summary)

    def write_embedded(
        self, doc: ParsedDocument, new_chunks: list[NewChunk], where: Placement, summary: IngestSummary
    ) -> str:
        """The write stage for one embedded document: one transaction, replacing the document previously at this
        path (unless other paths still map to it)."""
        path_key, replace_id = where.path_key, where.replace_id
        with summary.timed("write"):
            if replace_id is None and path_key is not None:
                entry = self.store.file_entry(path_key)
                if entry is not None and len(self.store.paths_of(entry["doc_id"])) == 1:
                    replace_id = entry["doc_id"]
                elif entry is not None:
                    self.writer.unmap_path(path_key)
            name = where.source_name or doc.path.name
            doc_id = self.writer.write(doc, new_chunks, path_key, where.origin, where.owner, name, replace_id)
            summary.count_written(doc, len(new_chunks))
        return doc_id

    def write_parsed(
        self, doc: ParsedDocument, new_chunks: list[NewChunk], path_key: str | None, summary: IngestSummary
    ) -> str:
        """The write stage for a document embedded elsewhere (a Ray actor), placed at its path."""
        return self.write_embedded(doc, new_chunks, Placement(path_key), summary)

    # -- uploads -------------------------------------------------------------------------------------------------------
    def add_upload(
        self, doc: ParsedDocument, *, owner: str, source_name: str, visible: tuple[str, ...]
    ) -> tuple[str, str, int]:
        """Store an uploaded document: ('duplicate', id, chunks) if the uploader can already see the same
        file, else ('indexed', id, chunks). Invisible copies are never revealed: the upload is stored anew."""
        with self.lock:
            same = self.store.document_by_sha(doc.sha256, visible)
            if same is not None:
                return "duplicate", same.id, same.chunk_count
            summary = IngestSummary()
            doc_id = self.add_parsed(
                doc, path_key=None, summary=summary, origin="upload", owner=owner, source_name=source_name
            )
            return "indexed", doc_id, summary.chunks

    def ingest_uploads(
        self, uploads: list[Upload], *, owner: str, visible: tuple[str, ...]
    ) -> Iterator[tuple[Upload, UploadOutcome]]:
        """Parse, chunk, embed and write a job's uploads, yielding each one's outcome as it is known; publishes once
        when all are done. A file that fails is reported, never raised."""
        by_path = {u.path: u for u in uploads}
        extractor = stored_extractor(self.store, self.settings, record=True)  # an upload never switches it
        for path, result in parse([SourceFile(u.path, u.overrides) for u in uploads], self.settings, extractor):
            upload = by_path[path]
            if isinstance(result, str):
                yield upload, UploadOutcome("failed", error=result)
                continue
            try:
                status, doc_id, chunks = self.add_upload(
                    result, owner=owner, source_name=upload.source_name, visible=visible
                )
            except Exception as exc:
                log.exception("upload %s failed", upload.source_name)
                yield upload, UploadOutcome("failed", error=f"cannot index: {type(exc).__name__}: {exc}")
                continue
            yield upload, UploadOutcome(status, doc_id, chunks)
        self.publish()

    # -- text records --------------------------------------------------------------------------------------------------
    def add_records(
        self, records: Iterable[Record], *, batch: int = RECORD_BATCH, progress: bool = False, total: int | None = None
    ) -> IngestSummary:
        """Index in-memory text records (e.g. a BEIR corpus) in batches; ids already stored are skipped."""
        t0 = time.perf_counter()
        summary = IngestSummary()
        bar = tqdm(total=total, unit="doc", desc="index", disable=not progress, file=sys.stderr)
        pending: list[Record] = []

        def flush() -> None:
            todo = [r for r in pending if self.store.document(r.id) is None]
            summary.unchanged += len(pending) - len(todo)
            docs = [record_document(r) for r in todo]
            chunk_lists = [self.chunk(d) for d in docs]
            embedded = iter(self.embed([c for cl in chunk_lists for c in cl], summary))
            with self.store.transaction() as tx:
                for r, d, cl in zip(todo, docs, chunk_lists, strict=False):
                    if not cl:
                        summary.failed.append({"file": r.id, "error": "no text"})
                        continue
                    insert(
                        tx,
                        r.id,
                        d,
                        [next(embedded) for _ in cl],
                        stored=None,
                        origin="record",
                        owner=None,
                        source_name=r.id,
                        edited={},
                        created_at=None,
                    )
                    summary.indexed += 1
                    summary.chunks += len(cl)
            bar.update(len(pending))
            pending.clear()

        with self.lock:
            for rec in records:
                summary.files += 1
                pending.append(rec)
                if len(pending) >= batch:
                    flush()
            if pending:
                flush()
            bar.close()
            self._dense().publish()
        summary.seconds = round(time.perf_counter() - t0, 3)
        return summary

    # -- edits and deletions -------------------------------------------------------------------------------------------
    def update_metadata(self, doc_id: str, changes: dict[str, Any]) -> DocumentRecord | None:
        """Apply edited metadata (kept across re-ingestion) and return the updated record."""
        rec = self.writer.edit(doc_id, changes)
        if rec is not None and {"sensitivity", "language"} & set(changes):  # who may be given its words: at once
            with self.lock:
                self.refresh_bridge()
        return rec

    def delete(self, doc_id: str) -> bool:
        """Delete a document and its chunks; returns False when it does not exist. Its words leave the cross-lingual
        bridge at once."""
        if self.writer.delete(doc_id) is None:
            return False
        with self.lock:
            self.refresh_bridge()
        return True

    # -- publish -------------------------------------------------------------------------------------------------------
    def _dense_published(self) -> bool:
        """Whether a dense index file exists for the current store state."""
        d = self.store.data_dir / "index" / "dense.json"
        try:
            return json.loads(d.read_text()).get("seq") == self.store.log_seq()
        except (OSError, ValueError):
            return False

    def publish(self) -> None:
        """Publish the dense index now (and extend a multilingual encoder's cross-lingual bridge), under the writer
        lock: one process publishes at a time (each through temporary files of its own)."""
        with self.lock:
            self._dense().publish()
            lexical_index(self.store, self.settings.lexical).sync()  # tantivy: index new chunks now, not at a search
            self.refresh_bridge()

    def refresh_bridge(self, only_if_missing: bool = False) -> None:
        """Save the English corpus vocabulary for the cross-lingual bridge (a multilingual encoder embeds new words)."""
        from pactkb.index.bridge import bridge_wanted

        if bridge_wanted(self.settings, self.encoder.name):
            from pactkb.index.bridge import bridge_path, update_bridge

            if only_if_missing and bridge_path(self.store, self.encoder.name).exists():
                return
            counts = update_bridge(self.store, self.encoder)
            if counts["embedded"]:
                log.info("bridge: %(embedded)d new English words embedded (%(words)d in all)", counts)
