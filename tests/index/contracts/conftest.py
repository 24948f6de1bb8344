"""Stores built directly through the store's transactions (no parsing, no model): documents and chunks with chosen
texts, metadata and vectors, for the contract suites."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pactkb.index.store import NewChunk, Store


def add_document(
    store: Store,
    doc_id: str,
    texts: Sequence[str],
    vectors: np.ndarray | None = None,
    *,
    title: str = "",
    language: str | None = "en",
    doc_type: str = "guideline",
    sensitivity: str = "public",
) -> list[int]:
    """Store one document with one chunk per text (vectors: one row each, or zeros); returns the chunk ids."""
    vecs = vectors if vectors is not None else np.zeros((len(texts), 4), dtype=np.float32)
    chunks = [
        NewChunk(
            ord=i,
            text=t,
            text_hash=hashlib.sha256(t.encode()).hexdigest(),
            page_start=1,
            page_end=1,
            label_start=None,
            label_end=None,
            section="",
            n_tokens=len(t.split()),
            vector=vecs[i],
        )
        for i, t in enumerate(texts)
    ]
    with store.transaction() as tx:
        tx.insert_document(
            {
                "id": doc_id,
                "sha256": doc_id,
                "title": title or doc_id,
                "language": language,
                "doc_type": doc_type,
                "sensitivity": sensitivity,
                "kind": "txt",
                "source_name": f"{doc_id}.txt",
                "size": 1,
                "pages": 1,
            }
        )
        return tx.insert_chunks(doc_id, title or doc_id, chunks, language)


def remove_document(store: Store, doc_id: str) -> None:
    """Delete a document and its chunks (logged for the vector index)."""
    with store.transaction() as tx:
        tx.delete_document(doc_id)


def new_store(root: Path) -> Store:
    """An empty store in a fresh folder."""
    return Store(root)
