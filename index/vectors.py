"""The VectorIndex protocol: what indexing and search need of a nearest-neighbour index over the chunk vectors, and
the factory that builds the configured one (as txtai's ann/base.py + ANNFactory).

An implementation holds (chunk id, vector) pairs of one store, kept in step with the store's change log, searches
them by inner product (cosine: vectors are normalised) among an allowed set, and publishes itself to disk so another
process can load it and replay the log from there. FAISS (index/dense.py) is the one implementation: exact (flat) or
approximate (HNSW by default, or IVF), chosen by size, its search effort calibrated at build to a recall floor against
exact search.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np

from pactkb.index.dense import AllowedSet, DenseIndex, HnswSettings
from pactkb.index.store import Store
from pactkb.settings import Settings


class VectorIndex(Protocol):
    """Nearest neighbours over a store's chunk vectors."""

    dim: int  # vector width
    kind: str  # the structure in use ('flat', 'ivf'...)
    seq: int  # the store change-log sequence number the index reflects

    @property
    def ntotal(self) -> int:
        """Vectors held."""
        ...

    def build(self, con: sqlite3.Connection | None = None, kind: str | None = None) -> None:
        """(Re)build from every vector in the store at one consistent snapshot (optionally of a given kind)."""
        ...

    def load(self) -> None:
        """Load the newest published copy and replay the change log from it; build from the store if there is none."""
        ...

    def sync(self, con: sqlite3.Connection | None = None) -> int:
        """Apply the store's changes (added and removed chunks) made since; returns how many log entries applied."""
        ...

    def search(
        self, query: np.ndarray, k: int, allowed: AllowedSet, con: sqlite3.Connection | None = None
    ) -> list[tuple[int, float]]:
        """Top-k (chunk id, inner product) among the allowed chunks, best first."""
        ...

    def search_many(
        self, queries: np.ndarray, k: int, allowed: AllowedSet, con: sqlite3.Connection | None = None
    ) -> list[list[tuple[int, float]]]:
        """`search` for each row of a query matrix in one call (rows searched in parallel), lists in row order."""
        ...

    def exhaustive(self, allowed: AllowedSet) -> bool:
        """Whether a search among these allowed chunks is exact, so that a list shorter than k holds every allowed
        chunk (an approximate, filtered search may return fewer while more exist)."""
        ...

    def ids(self) -> np.ndarray:
        """Every chunk id held."""
        ...

    def reconstruct(self, chunk_id: int) -> np.ndarray | None:
        """The vector held for a chunk (None if absent)."""
        ...

    def publish(self) -> Path:
        """Write the current state to disk atomically (readers load it); returns the file."""
        ...

    def disk_bytes(self) -> int:
        """Size of the published copy."""
        ...


def _faiss(store: Store, dim: int, settings: Settings) -> VectorIndex:
    """FAISS, exact, HNSW or IVF as the settings say (dense_index, ann_index, ann_threshold, ivf_threshold, ivf_lists,
    ivf_nprobe, hnsw_*, ann_recall, small_filter)."""
    return DenseIndex(
        store,
        dim,
        settings.dense_index,
        settings.ann_threshold,
        settings.ivf_nprobe,
        settings.small_filter,
        settings.ann_recall,
        ann=settings.ann_index,
        ivf_threshold=settings.ivf_threshold,
        ivf_lists=settings.ivf_lists,
        hnsw=HnswSettings(
            settings.hnsw_m, settings.hnsw_ef_construction, settings.hnsw_ef_search, settings.hnsw_compact
        ),
    )


VECTOR_INDEXES: dict[str, Callable[[Store, int, Settings], VectorIndex]] = {"faiss": _faiss}


def vector_index(store: Store, dim: int, settings: Settings, backend: str = "faiss") -> VectorIndex:
    """An unloaded vector index of a backend (VECTOR_INDEXES) for a store's vectors of width dim; call load()."""
    try:
        make = VECTOR_INDEXES[backend]
    except KeyError:
        raise ValueError(f"unknown vector index {backend!r} (known: {', '.join(VECTOR_INDEXES)})") from None
    return make(store, dim, settings)
