"""The knowledge base facade: one store, one encoder (loaded once), one dense index, per process."""

from __future__ import annotations

import threading
from functools import cached_property

from pactkb.index.encoder import Encoder
from pactkb.index.encoder_factory import LazyEncoder, encoder_facts, encoder_identity, stored_settings
from pactkb.index.shared_store import ReplicaStore
from pactkb.index.store import Store
from pactkb.index.stores import open_store
from pactkb.index.vectors import VectorIndex, vector_index
from pactkb.settings import Settings


def adopt_stored_encoder(settings: Settings, store: Store) -> Settings:
    """The settings with the store's recorded encoder when none of model / encoder / precision was set explicitly
    (flag or PACTKB_ variable): existing data directories keep working after the default changes. With only model or
    encoder set, the recorded precision is adopted if that gives the recorded encoder (auto's meaning varies)."""
    record = store.encoder_record()
    explicit = {"model", "encoder", "precision"} & settings.model_fields_set
    if record["name"] is None or record["name"] == encoder_identity(settings):
        return settings
    stored = stored_settings(record)
    if not explicit:
        return settings.model_copy(update=stored)
    if "precision" not in explicit:
        candidate = settings.model_copy(update={"precision": stored["precision"]})
        if encoder_identity(candidate) == record["name"]:
            return candidate
    return settings


def is_default_encoder(name: str | None) -> bool:
    """Whether a recorded encoder is the one a fresh install uses."""
    return name is None or name == encoder_identity(Settings.model_construct())


class KnowledgeBase:
    """Lazily wires store → encoder → dense index → searcher / indexer for a data directory."""

    def __init__(self, settings: Settings, encoder: Encoder | None = None, catch_up: bool = True) -> None:
        """Open the store and check the configured model's name; the model itself loads on first use. With no model
        chosen explicitly, a store keeps the encoder it was built with. `catch_up` off: a replica of the shared store
        is brought up to date later (a server does it while loading)."""
        self.store = open_store(settings, catch_up=False)
        self.settings = settings = settings if encoder is not None else adopt_stored_encoder(settings, self.store)
        self.encoder: Encoder = encoder if encoder is not None else LazyEncoder(settings)
        self.facts = encoder_facts(self.encoder)
        self.store.check_model_name(self.encoder.name, self.facts.precision, self.facts.weights)
        self._lock = threading.Lock()
        if catch_up:
            self.follow_shared()

    def follow_shared(self, changed: int | None = None) -> int:
        """A replica of the shared store: apply the change log to the local copy (unless `changed` says it was just
        done), then publish what this data directory derives from it (the FAISS file, the cross-lingual bridge's
        words); returns the documents brought in step (0 for the embedded store)."""
        if not isinstance(self.store, ReplicaStore):
            return 0
        if changed is None:
            changed = self.store.catch_up()
        if changed:
            self.indexer.publish()
        return changed

    @cached_property
    def dense(self) -> VectorIndex:
        """The FAISS index, loaded from disk and replayed to the store's state."""
        _, dim = self.store.model_info()
        if dim is None:
            dim = self.encoder.dim
            self.store.bind_model(self.encoder.name, dim, self.facts.precision, self.facts.weights, self.facts.setting)
        dense = vector_index(self.store, dim, self.settings)
        dense.load()
        return dense

    @cached_property
    def indexer(self):  # noqa: ANN201 - avoids importing ingestion for read-only use
        """The ingestion pipeline and writer (ingestion, uploads, edits, deletion)."""
        from pactkb.index.pipeline import IngestPipeline

        return IngestPipeline(self.store, self.encoder, self.settings, dense_factory=lambda: self.dense)

    @cached_property
    def searcher(self):  # noqa: ANN201
        """Hybrid search over this knowledge base."""
        from pactkb.index.hybrid import Searcher

        return Searcher(self.store, self.encoder, self.dense, self.settings)
