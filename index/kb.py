"""The knowledge base facade: one store, one encoder (loaded once), one dense index, per process."""

from __future__ import annotations

import threading
from functools import cached_property

from pactkb.index.dense import DenseIndex
from pactkb.index.embed import Encoder, LazyEncoder
from pactkb.index.store import Store
from pactkb.settings import Settings


class KnowledgeBase:
    """Lazily wires store → encoder → dense index → searcher / indexer for a data directory."""

    def __init__(self, settings: Settings, encoder: Encoder | None = None):
        """Open the store and check the configured model's name; the model itself loads on first use."""
        self.settings = settings
        self.store = Store(settings.data)
        self.encoder: Encoder = encoder if encoder is not None else LazyEncoder(settings)
        self.store.check_model_name(self.encoder.name)
        self._lock = threading.Lock()

    @cached_property
    def dense(self) -> DenseIndex:
        """The FAISS index, loaded from disk and replayed to the store's state."""
        s = self.settings
        _, dim = self.store.model_info()
        if dim is None:
            dim = self.encoder.dim
            self.store.bind_model(self.encoder.name, dim)
        dense = DenseIndex(self.store, dim, s.dense_index, s.ann_threshold, s.ivf_nprobe, s.small_filter)
        dense.load()
        return dense

    @cached_property
    def indexer(self):  # noqa: ANN201 - avoids importing ingestion for read-only use
        """The writer (ingestion, deletion)."""
        from pactkb.index.builder import Indexer

        return Indexer(self.store, self.encoder, self.settings, dense_factory=lambda: self.dense)

    @cached_property
    def searcher(self):  # noqa: ANN201
        """Hybrid search over this knowledge base."""
        from pactkb.index.hybrid import Searcher

        return Searcher(self.store, self.encoder, self.dense, self.settings)
