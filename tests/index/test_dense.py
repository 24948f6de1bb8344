"""The dense index loads published files memory-mapped (shared between server workers) and answers as in memory."""

import numpy as np

from pactkb.index.dense import AllowedSet, DenseIndex
from pactkb.index.kb import KnowledgeBase
from pactkb.ingest.record import Record

TEXTS = [
    "Cash couriers cross the border with undeclared money.",
    "Hawala brokers settle debts without moving funds.",
    "Trade invoices are inflated to move value abroad.",
    "Crypto mixers hide the trail of virtual assets.",
    "Shell companies conceal the beneficial owner.",
]


def _kb(settings, fake_encoder) -> KnowledgeBase:
    kb = KnowledgeBase(settings, encoder=fake_encoder)
    kb.indexer.add_records([Record(f"r{i}", f"Title {i}", t) for i, t in enumerate(TEXTS)])  # publishes
    return kb


def test_mapped_index_answers_like_the_in_memory_one(settings, fake_encoder):
    kb = _kb(settings, fake_encoder)
    mapped = DenseIndex(kb.store, fake_encoder.dim)
    mapped.load()
    in_memory = DenseIndex(kb.store, fake_encoder.dim)
    in_memory.build()
    assert mapped.mapped and not in_memory.mapped
    for text in TEXTS + ["money laundering through invoices"]:
        q = fake_encoder.encode_queries([text])[0]
        assert mapped.search(q, 3, AllowedSet.everything()) == in_memory.search(q, 3, AllowedSet.everything())
    assert np.array_equal(np.sort(mapped.ids()), np.sort(in_memory.ids()))


def test_a_change_after_loading_gives_the_process_its_own_copy(settings, fake_encoder):
    kb = _kb(settings, fake_encoder)
    reader = DenseIndex(kb.store, fake_encoder.dim)
    reader.load()
    assert reader.mapped
    kb.indexer.add_records([Record("new", "New", "Casino chips are bought with criminal cash.")])
    kb.indexer.delete("r0")
    assert reader.sync() > 0  # adds and removes on a mapped (read-only) index would abort the process
    assert not reader.mapped
    assert np.array_equal(np.sort(reader.ids()), kb.store.chunk_ids())
    q = fake_encoder.encode_queries(["casino chips"])[0]
    best, _ = reader.search(q, 1, AllowedSet.everything())[0]
    assert kb.store.chunk_documents()[best] == "new"
