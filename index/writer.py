"""The write stage: documents with their pages and chunks into the store, one SQLite transaction each.

Also what keeps the store's documents in step with the files they came from: the path → document mapping,
stored originals (content-addressed under <data>/files), metadata edits that survive re-ingestion, deletion and
pruning. Nothing here embeds or publishes; the pipeline (index/pipeline.py) does that around it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from pathlib import Path
from typing import Any

from pactkb.atomic import temp_beside
from pactkb.index.store import DocumentRecord, NewChunk, Store, Tx
from pactkb.ingest.metadata import inferred_from_title
from pactkb.ingest.types import META_FIELDS, ParsedDocument
from pactkb.settings import stricter

WRITER_LOCK = ".writer.lock"  # one writer per data directory at a time (a file lock in the data directory)
ID_LENGTHS = (16, 24, 32, 64)  # hex digits of the content hash tried in turn for a folder document's id
UPLOAD_ID_BYTES = 8  # an upload's id: this many random bytes, as hex


class DocumentWriter:
    """Writes, replaces, edits and deletes documents in one store."""

    def __init__(self, store: Store) -> None:
        """Write into this store."""
        self.store = store

    def store_original(self, path: Path, sha: str) -> str:
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

    def remove_original(self, rel: str) -> None:
        """Delete a stored original unless another document still uses it."""
        if not self.store.uses_original(rel):
            try:
                (self.store.data_dir / rel).unlink()
            except FileNotFoundError:
                pass

    def new_id(self, sha: str, random: bool = False) -> str:
        """A document id: for files ingested from a folder, derived from the content hash (stable across rebuilds);
        for uploads, random hex digits, so an id says nothing about the content or about other (hidden) copies."""
        if random:
            while True:
                doc_id = secrets.token_hex(UPLOAD_ID_BYTES)
                if self.store.document(doc_id) is None:
                    return doc_id
        for n in ID_LENGTHS:
            if self.store.document(sha[:n]) is None:
                return sha[:n]
        raise RuntimeError("document id collision")  # pragma: no cover

    def map_path(self, path: Path, doc_id: str, sha: str) -> None:
        """Record that the file at `path` (with its current mtime and size) holds document `doc_id`."""
        st = path.stat()
        with self.store.transaction() as tx:
            tx.map_file(str(path), doc_id, sha, st.st_mtime, st.st_size)

    def unmap_path(self, key: str) -> None:
        """Forget the file at a path (its document stays)."""
        with self.store.transaction() as tx:
            tx.unmap_file(key)

    def write(
        self,
        doc: ParsedDocument,
        chunks: list[NewChunk],
        path_key: str | None,
        origin: str,
        owner: str | None,
        source_name: str,
        replace_id: str | None = None,
    ) -> str:
        """One transaction: insert (or replace) a document with pages, chunks and the file mapping."""
        stored = self.store_original(doc.path, doc.sha256)
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
            doc_id = old.id if old else self.new_id(doc.sha256, random=origin == "upload")
            if old:
                tx.delete_document(old.id)
            insert(
                tx,
                doc_id,
                doc,
                chunks,
                stored=stored,
                origin=origin,
                owner=old.owner if old else owner,
                source_name=source_name,
                edited=edited,
                created_at=old.created_at if old else None,
            )
            if path_key is not None:
                st = doc.path.stat()
                tx.map_file(path_key, doc_id, doc.sha256, st.st_mtime, st.st_size)
        if old and old.stored_path and old.stored_path != stored:
            self.remove_original(old.stored_path)
        return doc_id

    def apply_manifest(self, doc_id: str, overrides: dict[str, Any]) -> None:
        """Update an unchanged document's metadata when its manifest entry changed (edited labels stay stricter)."""
        rec = self.store.document(doc_id)
        if rec is None or not overrides:
            return
        changes = {k: v for k, v in overrides.items() if getattr(rec, k) != v}
        if "sensitivity" in changes:
            changes["sensitivity"] = (
                stricter(changes["sensitivity"], rec.edited.get("sensitivity")) or changes["sensitivity"]
            )
            if changes["sensitivity"] == rec.sensitivity:
                del changes["sensitivity"]
        if not changes:
            return
        inferred = [f for f in rec.inferred if f not in overrides]
        if "title" in changes:  # as at parse time (the PDF's info is not stored: the year stays)
            texts = [r["text"] for r in self.store.pages(doc_id)]
            changes.update(inferred_from_title(changes["title"], texts, inferred))
        with self.store.transaction() as tx:
            tx.update_document(doc_id, {**changes, "inferred": inferred})

    def edit(self, doc_id: str, changes: dict[str, Any]) -> DocumentRecord | None:
        """Apply edited metadata (kept across re-ingestion) and return the updated record (None if missing)."""
        rec = self.store.document(doc_id)
        if rec is None:
            return None
        edited = {**rec.edited, **changes}
        inferred = [f for f in rec.inferred if f not in changes]
        with self.store.transaction() as tx:  # a small transaction: no need to wait for the writer lock
            tx.update_document(doc_id, {**changes, "edited": edited, "inferred": inferred})
        return self.store.document(doc_id)

    def delete(self, doc_id: str) -> DocumentRecord | None:
        """Delete a document, its chunks and (unless shared) its stored original; returns what was deleted."""
        rec = self.store.document(doc_id)
        if rec is None:
            return None
        with self.store.transaction() as tx:
            tx.delete_document(doc_id)
        if rec.stored_path:
            self.remove_original(rec.stored_path)
        return rec

    def drop_if_orphan(self, doc_id: str) -> bool:
        """Delete a folder document that no file maps to any more."""
        rec = self.store.document(doc_id)
        if rec is None or rec.origin != "path" or rec.files:
            return False
        return self.delete(doc_id) is not None

    def prune(self) -> list[str]:
        """Forget paths that no longer exist; returns the ids of the documents left without a file and deleted."""
        removed = []
        for row in self.store.all_files():
            if not Path(row["path"]).exists():
                self.unmap_path(row["path"])
                if self.drop_if_orphan(row["doc_id"]):
                    removed.append(row["doc_id"])
        return removed


def insert(
    tx: Tx,
    doc_id: str,
    doc: ParsedDocument,
    chunks: list[NewChunk],
    *,
    stored: str | None,
    origin: str,
    owner: str | None,
    source_name: str,
    edited: dict[str, Any],
    created_at: float | None,
) -> None:
    """Insert a document row, its pages and its chunks inside an open transaction."""
    meta = doc.meta
    tx.insert_document(
        {
            "id": doc_id,
            "sha256": doc.sha256,
            "title": meta.title,
            "publisher": meta.publisher,
            "year": meta.year,
            "language": meta.language,
            "doc_type": meta.doc_type,
            "areas": meta.areas,
            "sensitivity": meta.sensitivity,
            "inferred": meta.inferred,
            "edited": edited,
            "kind": doc.kind,
            "source_name": source_name,
            "stored_path": stored,
            "size": doc.size,
            "pages": len(doc.pages),
            "pages_ocr": doc.pages_ocr,
            "pages_scanned": doc.pages_scanned,
            "origin": origin,
            "owner": owner,
            "toc": [{"level": h.level, "title": h.title, "page": h.page} for h in doc.headings],
            "warnings": doc.warnings,
            "created_at": created_at or time.time(),
            "series": meta.series,
            "edition": meta.edition,
        }
    )
    tx.insert_pages(doc_id, [(p.number, p.label, p.ocr, p.scanned, p.full_text) for p in doc.pages])
    tx.insert_chunks(doc_id, meta.title, chunks, meta.language)
