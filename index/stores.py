"""The store seam: what search, ingestion and the API need of a store, and the factory that picks one.

Two implementations: `Store` (index/store.py), the embedded SQLite store in the data directory, and `ReplicaStore`
(index/shared_store.py), a replica of the shared PostgreSQL store (`PACTKB_DATABASE_URL`) whose local copy in the data
directory carries the lexical index and feeds the FAISS index. Both pass tests/index/contracts/test_store_contract.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from pactkb.index.filters import Filters
from pactkb.index.store import DocumentRecord, NewChunk, Store, Tx
from pactkb.pg import is_postgres
from pactkb.settings import Settings


@runtime_checkable
class KnowledgeStore(Protocol):
    """The store's interface (the methods the layers above call; writes go through `transaction()`'s Tx)."""

    data_dir: Path

    def transaction(self) -> AbstractContextManager[Tx]:
        """A write transaction: all or nothing."""

    def snapshot(self) -> AbstractContextManager[Any]:
        """A read transaction over the search-side tables."""

    def get_meta(self, key: str) -> str | None:
        """A value of the store's meta table."""

    def encoder_record(self) -> dict[str, Any]:
        """The encoder the store's vectors were made with."""

    def document(self, doc_id: str, con: Any = None) -> DocumentRecord | None:
        """One document as stored now (None when deleted)."""

    def document_by_sha(
        self, sha256: str, visible: tuple[str, ...] | None = None, origin: str | None = None
    ) -> DocumentRecord | None:
        """A document with this content hash."""

    def list_documents(
        self, filters: Filters, title: str | None = None, sort: str = "title", limit: int = 20, offset: int = 0
    ) -> tuple[int, list[DocumentRecord]]:
        """One page of the documents the filters admit."""

    def stored_languages(self) -> list[tuple[str, str]]:
        """(language, source file name) of every document with a language, as stored."""

    def pages(self, doc_id: str) -> list[Any]:
        """A document's pages."""

    def stored_chunks(self, doc_id: str) -> list[tuple[int, NewChunk]]:
        """A document's chunks with ids and vectors."""

    def original(self, stored_path: str) -> Path | None:
        """The readable file of a stored original."""

    def log_seq(self, con: Any = None) -> int:
        """The vector index's change-log head."""

    def log_since(self, seq: int, con: Any = None) -> list[tuple[int, int, int]]:
        """Vector-index change-log entries after seq."""

    def iter_vectors(self, batch: int = 20000, con: Any = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """All (ids, vectors) in batches."""

    def filtered_chunk_ids(self, filters: Filters, con: Any = None) -> np.ndarray:
        """Ids of the chunks whose documents the filters admit."""

    def hit_rows(self, ids: list[int], filters: Filters, con: Any = None, text: bool = True) -> dict[int, Any]:
        """Chunk and document rows of hits the filters (and the store, now) admit."""

    def fts_search(
        self, expr: str, k: int, filters: Filters, title_weight: float = 1.0, con: Any = None
    ) -> list[tuple[int, float]]:
        """Top-k BM25 matches under filters."""

    def admitted(self, doc_ids: Iterable[str], filters: Filters) -> set[str]:
        """Which documents exist and the filters admit."""


def open_store(settings: Settings, catch_up: bool = True) -> Store:
    """The store the settings select: a replica of the shared PostgreSQL store when `database_url` names one (brought
    up to date at once unless `catch_up` is off), else the embedded SQLite store in the data directory."""
    if is_postgres(settings.database_url):
        from pactkb.index.shared_store import ReplicaStore

        return ReplicaStore(settings.data, str(settings.database_url), catch_up=catch_up)
    if settings.database_url:
        raise ValueError(f"PACTKB_DATABASE_URL must be a postgresql:// URL, not {settings.database_url.split(':')[0]}:")
    return Store(settings.data)
