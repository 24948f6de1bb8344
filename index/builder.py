"""Ingestion into the store: files → parsed pages → chunks → vectors, incrementally and crash-safely.

Each document is written in one SQLite transaction (document, pages, chunks, vectors, FTS rows and
change-log entries together), so killing the process at any moment leaves the previous state; the
FAISS file is published atomically at the end. Only one writer runs at a time (a file lock).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import shutil
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock, Timeout
from tqdm import tqdm

from pactkb.atomic import temp_beside
from pactkb.index.encoder import Encoder
from pactkb.index.encoder_factory import encoder_facts
from pactkb.index.store import DocumentRecord, NewChunk, Store, Tx, blob_vector
from pactkb.index.vectors import VectorIndex, vector_index
from pactkb.ingest.chunk import chunk_pages
from pactkb.ingest.clean import clean_pages
from pactkb.ingest.guard import parse_all
from pactkb.ingest.manifest import MANIFEST_NAMES, ManifestEntry, find_manifests, load_manifest
from pactkb.ingest.metadata import apply_overrides
from pactkb.ingest.parse import SUPPORTED_SUFFIXES, ParseOptions, estimate_pages, file_sha256
from pactkb.ingest.sections import SectionIndex
from pactkb.ingest.types import META_FIELDS, Chunk, DocumentMeta, Page, ParsedDocument
from pactkb.settings import SENSITIVITY_LEVELS, Settings

log = logging.getLogger(__name__)
WRITER_LOCK = ".writer.lock"


@dataclass
class Record:
    """An in-memory document: id, title, text and optional metadata overrides."""

    id: str
    title: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


def record_document(rec: Record) -> ParsedDocument:
    """A one-page parsed document for a text record (form feeds separate pages)."""
    texts = clean_pages(rec.text.split("\f"))
    meta = DocumentMeta(title=rec.title or rec.id, inferred=[])
    apply_overrides(meta, rec.metadata)
    return ParsedDocument(
        path=Path(rec.id), sha256=hashlib.sha256(f"{rec.id}\0{rec.title}\0{rec.text}".encode()).hexdigest(),
        size=len(rec.text.encode()), kind="record", pages=[Page(i + 1, t) for i, t in enumerate(texts)],
        headings=[], meta=meta,
    )


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
    warnings: list[dict[str, str]] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    removed_documents: list[str] = field(default_factory=list)  # ids deleted by --prune (for the audit log)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def stricter(a: str | None, b: str | None) -> str | None:
    """The more restrictive of two sensitivity labels."""
    levels = [x for x in (a, b) if x]
    return max(levels, key=SENSITIVITY_LEVELS.index) if levels else None


def text_hash(text: str) -> str:
    """Identity of a chunk's embedded text, for reusing vectors."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


UNSUPPORTED = "unsupported file type {suffix} (PDF, .txt, .md)"


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[dict[str, str]], list[dict[str, str]]]:
    """Supported files under the given files/folders (recursive, sorted), errors for bad arguments, and the other
    files found in the folders with the reason they are skipped (hidden files and manifests are not listed)."""
    found: list[Path] = []
    errors: list[dict[str, str]] = []
    skipped: list[dict[str, str]] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    fp = Path(root) / name
                    if name.startswith(".") or name in MANIFEST_NAMES:
                        continue
                    if fp.suffix.lower() in SUPPORTED_SUFFIXES:
                        found.append(fp.resolve())
                    else:
                        skipped.append({"file": str(fp), "reason": UNSUPPORTED.format(suffix=fp.suffix or "(none)")})
        elif p.is_file():
            if p.suffix.lower() in SUPPORTED_SUFFIXES:
                found.append(p.resolve())
            else:
                errors.append({"file": str(p), "error": UNSUPPORTED.format(suffix=p.suffix or "(none)")})
        else:
            errors.append({"file": str(p), "error": "no such file or directory"})
    unique = list(dict.fromkeys(found))
    return unique, errors, list({s["file"]: s for s in skipped}.values())


class Indexer:
    """Writes documents into a store and keeps the dense index published."""

    def __init__(self, store: Store, encoder: Encoder, settings: Settings,
                 dense_factory: Callable[[], VectorIndex] | None = None):
        """Check the store's model name now; the model loads (and its dimension is checked) when needed."""
        self.store = store
        self.encoder = encoder
        self.settings = settings
        self.facts = encoder_facts(encoder)
        store.check_model_name(encoder.name, self.facts.precision, self.facts.weights)
        self._dense_factory = dense_factory
        self.dense: VectorIndex | None = None
        self._bound = False
        self.lock = FileLock(str(store.data_dir / WRITER_LOCK))
        self.on_embedded: Callable[[float], None] | None = None  # share of the current document's chunks embedded

    # -- helpers -------------------------------------------------------------------------------
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
        """Chunks of a parsed document within the model's token limit."""
        target = self.settings.chunk_tokens or int(getattr(self.encoder, "chunk_tokens", self.encoder.max_tokens))
        return chunk_pages(
            doc.pages,
            SectionIndex(doc.headings),
            self.encoder.count_tokens,
            max_tokens=self.encoder.max_tokens,
            target=target,
            overlap=self.settings.chunk_overlap,
        )

    def embed(self, chunks: list[Chunk], summary: IngestSummary) -> list[NewChunk]:
        """Vectors for chunks, reusing stored vectors of identical text."""
        self._bind()
        hashes = [text_hash(c.text) for c in chunks]
        reuse = self.store.vectors_for_hashes(hashes)
        todo = sorted({h: c.text for h, c in zip(hashes, chunks) if h not in reuse}.items())
        fresh: dict[str, np.ndarray] = {}
        if todo:
            t0 = time.perf_counter()
            texts = [t for _, t in todo]
            step = self.settings.batch_size * 4  # slices, so a progress bar moves through a 400-page document too
            parts = []
            for i in range(0, len(texts), step):
                parts.append(self.encoder.encode(texts[i : i + step], batch_size=self.settings.batch_size))
                if self.on_embedded is not None:
                    self.on_embedded(min(1.0, (i + step) / len(texts)))
            vecs = np.concatenate(parts)
            summary.encode_seconds += time.perf_counter() - t0
            fresh = {h: v for (h, _), v in zip(todo, vecs)}
            summary.chunks_embedded += len(todo)
        out = []
        for h, c in zip(hashes, chunks):
            vec = fresh[h] if h in fresh else blob_vector(reuse[h])
            out.append(NewChunk(c.ord, c.text, h, c.page_start, c.page_end, c.label_start, c.label_end, c.section, c.n_tokens, vec, c.region))
        return out

    def _store_original(self, path: Path, sha: str) -> str:
        """Copy the original file into the data directory (content-addressed); returns its relative path."""
        rel = f"files/{sha}{path.suffix.lower()}"
        target = self.store.data_dir / rel
        if not target.exists():
            tmp = temp_beside(target)
            shutil.copyfile(path, tmp)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        return rel

    def _new_id(self, sha: str, random: bool = False) -> str:
        """A document id: for files ingested from a folder, derived from the content hash (stable across rebuilds);
        for uploads, 16 random hex digits, so an id says nothing about the content or about other (hidden) copies."""
        if random:
            while True:
                doc_id = secrets.token_hex(8)
                if self.store.document(doc_id) is None:
                    return doc_id
        for n in (16, 24, 32, 64):
            if self.store.document(sha[:n]) is None:
                return sha[:n]
        raise RuntimeError("document id collision")  # pragma: no cover

    def _write(self, doc: ParsedDocument, chunks: list[NewChunk], path_key: str | None, origin: str,
               owner: str | None, source_name: str, replace_id: str | None = None) -> str:
        """One transaction: insert (or replace) a document with pages, chunks and the file mapping."""
        stored = self._store_original(doc.path, doc.sha256)
        old = self.store.document(replace_id) if replace_id else None
        meta = doc.meta
        edited = dict(old.edited) if old else {}
        for key, value in edited.items():  # edits made through the API survive re-ingestion
            if key == "sensitivity":
                meta.sensitivity = stricter(meta.sensitivity, value) or meta.sensitivity
            elif key in META_FIELDS:
                setattr(meta, key, value)
            if key in meta.inferred:
                meta.inferred.remove(key)
        with self.store.transaction() as tx:
            doc_id = old.id if old else self._new_id(doc.sha256, random=origin == "upload")
            if old:
                tx.delete_document(old.id)
            self._insert(tx, doc_id, doc, chunks, stored=stored, origin=origin, owner=old.owner if old else owner,
                         source_name=source_name, edited=edited, created_at=old.created_at if old else None)
            if path_key is not None:
                st = doc.path.stat()
                tx.map_file(path_key, doc_id, doc.sha256, st.st_mtime, st.st_size)
        if old and old.stored_path and old.stored_path != stored:
            self._remove_original(old.stored_path)
        return doc_id

    @staticmethod
    def _insert(tx: Tx, doc_id: str, doc: ParsedDocument, chunks: list[NewChunk], *, stored: str | None, origin: str,
                owner: str | None, source_name: str, edited: dict[str, Any], created_at: float | None) -> None:
        """Insert a document row, its pages and its chunks inside an open transaction."""
        meta = doc.meta
        tx.insert_document(
            {
                "id": doc_id, "sha256": doc.sha256, "title": meta.title, "publisher": meta.publisher,
                "year": meta.year, "language": meta.language, "doc_type": meta.doc_type, "areas": meta.areas,
                "sensitivity": meta.sensitivity, "inferred": meta.inferred, "edited": edited, "kind": doc.kind,
                "source_name": source_name, "stored_path": stored, "size": doc.size, "pages": len(doc.pages),
                "pages_ocr": doc.pages_ocr, "pages_scanned": doc.pages_scanned, "origin": origin, "owner": owner,
                "toc": [{"level": h.level, "title": h.title, "page": h.page} for h in doc.headings],
                "warnings": doc.warnings, "created_at": created_at or time.time(),
                "series": meta.series, "edition": meta.edition,
            }
        )
        tx.insert_pages(doc_id, [(p.number, p.label, p.ocr, p.scanned, p.full_text) for p in doc.pages])
        tx.insert_chunks(doc_id, meta.title, chunks, meta.language)

    def add_records(self, records: Iterable[Record], *, batch: int = 256, progress: bool = False,
                    total: int | None = None) -> IngestSummary:
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
            flat = [c for cl in chunk_lists for c in cl]
            embedded = iter(self.embed(flat, summary))
            with self.store.transaction() as tx:
                for r, d, cl in zip(todo, docs, chunk_lists):
                    if not cl:
                        summary.failed.append({"file": r.id, "error": "no text"})
                        continue
                    self._insert(tx, r.id, d, [next(embedded) for _ in cl], stored=None, origin="record", owner=None,
                                 source_name=r.id, edited={}, created_at=None)
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

    def _remove_original(self, rel: str) -> None:
        """Delete a stored original unless another document still uses it."""
        if not self.store.uses_original(rel):
            try:
                (self.store.data_dir / rel).unlink()
            except FileNotFoundError:
                pass

    def _apply_meta_overrides(self, doc_id: str, overrides: dict[str, Any]) -> None:
        """Update an unchanged document's metadata when its manifest entry changed."""
        rec = self.store.document(doc_id)
        if rec is None or not overrides:
            return
        changes = {k: v for k, v in overrides.items() if getattr(rec, k) != v}
        if "sensitivity" in changes:
            changes["sensitivity"] = stricter(changes["sensitivity"], rec.edited.get("sensitivity")) or changes["sensitivity"]
            if changes["sensitivity"] == rec.sensitivity:
                del changes["sensitivity"]
        if not changes:
            return
        inferred = [f for f in rec.inferred if f not in changes]
        with self.store.transaction() as tx:
            tx.update_document(doc_id, {**changes, "inferred": inferred})

    # -- public API ----------------------------------------------------------------------------
    def ingest(
        self,
        paths: Iterable[Path],
        *,
        prune: bool = False,
        sensitivity: str | None = None,
        manifest: Path | None = None,
        progress: bool = False,
        lock_timeout: float = -1,
    ) -> IngestSummary:
        """Ingest files and folders; unchanged files embed nothing; failures are reported per file."""
        t0 = time.perf_counter()
        summary = IngestSummary()
        roots = [Path(p) for p in paths]
        try:
            try:
                self.lock.acquire(timeout=0)
            except Timeout:
                log.warning("waiting for another ingestion into %s to finish", self.store.data_dir)
                self.lock.acquire(timeout=lock_timeout)
            try:
                self._ingest_locked(roots, summary, prune, sensitivity, manifest, progress)
            finally:
                self.lock.release()
        except Timeout:
            summary.failed.append({"file": str(self.store.data_dir), "error": "another ingestion holds the writer lock"})
        summary.seconds = round(time.perf_counter() - t0, 3)
        return summary

    def _overrides_for(self, path: Path, roots: list[Path], explicit: dict[str, ManifestEntry] | None,
                       cache: dict[Path, dict[str, ManifestEntry]], sensitivity: str | None,
                       summary: IngestSummary) -> dict[str, Any]:
        """Manifest values for a file (nearest manifest wins), with the run's sensitivity flag."""
        entry: ManifestEntry | None = None
        sources = [explicit] if explicit is not None else []
        if explicit is None:
            root = next((r.resolve() for r in roots if r.is_dir() and path.is_relative_to(r.resolve())), path.parent)
            for mpath in find_manifests(path.parent, root.parent):
                if mpath not in cache:
                    try:
                        cache[mpath] = load_manifest(mpath)
                    except ValueError as exc:
                        summary.warnings.append({"file": str(mpath), "warning": str(exc)})
                        cache[mpath] = {}
                sources.append(cache[mpath])
        for src in sources:
            for key in (str(path), path.name):
                if key in src:
                    entry = src[key]
                    break
            if entry:
                break
        values: dict[str, Any] = dict(entry.values) if entry else {}
        if entry:
            for w in entry.warnings:
                if {"file": str(path), "warning": w} not in summary.warnings:
                    summary.warnings.append({"file": str(path), "warning": w})
        if sensitivity:
            values["sensitivity"] = stricter(values.get("sensitivity"), sensitivity)
        return values

    def _ingest_locked(self, roots: list[Path], summary: IngestSummary, prune: bool, sensitivity: str | None,
                       manifest: Path | None, progress: bool) -> None:
        """The body of ingest(), run while holding the writer lock."""
        files, errors, skipped = discover(roots)
        summary.failed.extend(errors)
        summary.skipped.extend(skipped)
        summary.files = len(files) + len(errors)
        explicit = load_manifest(manifest) if manifest else None
        cache: dict[Path, dict[str, ManifestEntry]] = {}
        todo: list[tuple[Path, ParseOptions]] = []
        scheduled: dict[str, Path] = {}
        aliases: list[tuple[Path, str]] = []
        changed = False
        for path in files:
            overrides = self._overrides_for(path, roots, explicit, cache, sensitivity, summary)
            try:
                sha, _ = file_sha256(path)
            except OSError as exc:
                summary.failed.append({"file": str(path), "error": f"cannot read: {exc.strerror or exc}"})
                continue
            key = str(path)
            entry = self.store.file_entry(key)
            same = self.store.document_by_sha(sha, origin="path")  # uploads stay independent documents
            if same is not None:
                if entry is None or entry["doc_id"] != same.id:
                    with self.store.transaction() as tx:
                        st = path.stat()
                        tx.map_file(key, same.id, sha, st.st_mtime, st.st_size)
                    if entry is not None:
                        changed |= self._drop_if_orphan(entry["doc_id"], summary)
                self._apply_meta_overrides(same.id, overrides)
                summary.unchanged += 1
                summary.documents.append(same.id)
                continue
            if sha in scheduled:  # same content as a file earlier in this run: store it once
                aliases.append((path, sha))
                continue
            scheduled[sha] = path
            todo.append((path, ParseOptions(self.settings.ocr, self.settings.ocr_languages, self.settings.ocr_min_chars, overrides)))
        s = self.settings
        # The bar counts pages of the files that need work (unchanged files are not work): files range from 1 to
        # 400 pages, so a bar in files would promise a wrong time; a page is close to a constant amount of encoding.
        work = {p: estimate_pages(p) for p, _ in todo} if progress else {}
        bar = tqdm(total=sum(work.values()), unit="page", desc="ingest", disable=not progress, file=sys.stderr,
                   smoothing=0.05)
        bar.set_postfix_str(f"{len(todo)} file(s) to read, {len(skipped)} skipped")
        credited = 0

        def advance(share: float, pages: int) -> None:
            """Move the bar to `share` of this file's pages (embedding is most of a file's time)."""
            nonlocal credited
            step = int(pages * share) - credited
            if step > 0:
                bar.update(step)
                credited += step

        for n, (path, result) in enumerate(parse_all(todo, s.parse_workers, s.file_timeout, s.file_memory_mb,
                                                     s.ocr_page_timeout), start=1):
            bar.set_postfix_str(f"file {n}/{len(todo)}, {len(skipped)} skipped, {path.name[:30]}")
            credited, pages = 0, work.get(path, 0)
            if isinstance(result, str):
                summary.failed.append({"file": str(path), "error": result})
                advance(1.0, pages)
                continue
            self.on_embedded = (lambda share, pages=pages: advance(share, pages)) if progress else None
            try:
                doc_id = self.add_parsed(result, path_key=str(path), summary=summary)
            finally:
                self.on_embedded = None
            changed = True
            summary.documents.append(doc_id)
            advance(1.0, pages)
        failed = {f["file"]: f["error"] for f in summary.failed}
        for path, sha in aliases:
            same = self.store.document_by_sha(sha, origin="path")
            if same is None:
                first = str(scheduled[sha])
                summary.failed.append({"file": str(path), "error": f"same content as {Path(first).name}: {failed.get(first, 'not ingested')}"})
            else:
                with self.store.transaction() as tx:
                    st = path.stat()
                    tx.map_file(str(path), same.id, sha, st.st_mtime, st.st_size)
                summary.unchanged += 1
        if prune:
            changed |= self.prune(summary) > 0
        bar.close()
        if changed or (self.store.log_seq() and not self._dense_published()):
            self.publish()
        elif self.store.log_seq():
            self.refresh_bridge(only_if_missing=True)

    def add_parsed(self, doc: ParsedDocument, *, path_key: str | None, summary: IngestSummary,
                   origin: str = "path", owner: str | None = None, source_name: str | None = None,
                   replace_id: str | None = None) -> str:
        """Chunk, embed and write one parsed document (replacing the one previously at this path)."""
        chunks = self.chunk(doc)
        if not chunks:
            raise ValueError(f"{doc.path}: no text to index")
        new_chunks = self.embed(chunks, summary)
        if replace_id is None and path_key is not None:
            entry = self.store.file_entry(path_key)
            if entry is not None and len(self.store.paths_of(entry["doc_id"])) == 1:
                replace_id = entry["doc_id"]
            elif entry is not None:
                with self.store.transaction() as tx:
                    tx.unmap_file(path_key)
        doc_id = self._write(doc, new_chunks, path_key, origin, owner, source_name or doc.path.name, replace_id)
        summary.indexed += 1
        summary.chunks += len(new_chunks)
        summary.pages += len(doc.pages)
        summary.pages_ocr += doc.pages_ocr
        summary.pages_scanned += doc.pages_scanned
        for w in doc.warnings:
            summary.warnings.append({"file": str(doc.path), "warning": w})
        return doc_id

    def add_upload(self, doc: ParsedDocument, *, owner: str, source_name: str,
                   visible: tuple[str, ...]) -> tuple[str, str, int]:
        """Store an uploaded document: ('duplicate', id, chunks) if the uploader can already see the same
        file, else ('indexed', id, chunks). Invisible copies are never revealed: the upload is stored anew."""
        with self.lock:
            same = self.store.document_by_sha(doc.sha256, visible)
            if same is not None:
                return "duplicate", same.id, same.chunk_count
            summary = IngestSummary()
            doc_id = self.add_parsed(doc, path_key=None, summary=summary, origin="upload", owner=owner, source_name=source_name)
            return "indexed", doc_id, summary.chunks

    def update_metadata(self, doc_id: str, changes: dict[str, Any]) -> DocumentRecord | None:
        """Apply edited metadata (kept across re-ingestion) and return the updated record."""
        rec = self.store.document(doc_id)
        if rec is None:
            return None
        edited = {**rec.edited, **changes}
        inferred = [f for f in rec.inferred if f not in changes]
        with self.store.transaction() as tx:  # a small transaction: no need to wait for the writer lock
            tx.update_document(doc_id, {**changes, "edited": edited, "inferred": inferred})
        if {"sensitivity", "language"} & set(changes):  # who may be given its words changed: at once
            with self.lock:
                self.refresh_bridge()
        return self.store.document(doc_id)

    def _drop_if_orphan(self, doc_id: str, summary: IngestSummary) -> bool:
        """Delete a path-origin document that no file maps to any more."""
        rec = self.store.document(doc_id)
        if rec is None or rec.origin != "path" or rec.files:
            return False
        self.delete(doc_id, refresh=False)  # the ingestion publishes once at its end
        summary.removed += 1
        summary.removed_documents.append(doc_id)
        return True

    def prune(self, summary: IngestSummary) -> int:
        """Forget paths that no longer exist and delete documents left without a file."""
        removed = 0
        for row in self.store.all_files():
            if not Path(row["path"]).exists():
                with self.store.transaction() as tx:
                    tx.unmap_file(row["path"])
                if self._drop_if_orphan(row["doc_id"], summary):
                    removed += 1
        return removed

    def delete(self, doc_id: str, refresh: bool = True) -> bool:
        """Delete a document and its chunks; returns False when it does not exist. Its words leave the cross-lingual
        bridge at once (unless `refresh` is off, for a caller that publishes afterwards)."""
        rec = self.store.document(doc_id)
        if rec is None:
            return False
        with self.store.transaction() as tx:
            tx.delete_document(doc_id)
        if rec.stored_path:
            self._remove_original(rec.stored_path)
        if refresh:
            with self.lock:
                self.refresh_bridge()
        return True

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

