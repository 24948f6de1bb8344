"""The contract every VectorIndex (index/vectors.py) keeps, run against each implementation and structure: FAISS
exact (flat), IVF and HNSW."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pactkb.index.dense import MIN_IVF, AllowedSet
from pactkb.index.filters import Filters
from pactkb.index.store import Store
from pactkb.index.vectors import VECTOR_INDEXES, VectorIndex, vector_index
from pactkb.settings import Settings
from tests.index.contracts.conftest import add_document, new_store, remove_document

DIM = 16
DOCS = 4
PER_DOC = (MIN_IVF + 44) // DOCS  # enough vectors that IVF / HNSW are really approximate
VARIANTS = [(backend, kind) for backend in sorted(VECTOR_INDEXES) for kind in ("flat", "ivf", "hnsw")]


def unit_rows(n: int, seed: int) -> np.ndarray:
    """n random normalised float32 vectors."""
    x = np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


class Built:
    """A store with vectors, and a factory for indexes over it."""

    def __init__(self, root: Path, backend: str, kind: str) -> None:
        """DOCS documents of PER_DOC random vectors each."""
        self.store: Store = new_store(root)
        self.settings = Settings(data=root, dense_index=kind, ivf_nprobe=64, hnsw_ef_search=64, small_filter=5)
        self.backend, self.kind = backend, kind
        self.vectors: dict[int, np.ndarray] = {}
        for d in range(DOCS):
            self.add(f"doc{d}", seed=d)

    def add(self, doc_id: str, seed: int, n: int = PER_DOC) -> list[int]:
        """Store a document of n random vectors."""
        vecs = unit_rows(n, seed)
        ids = add_document(self.store, doc_id, [f"{doc_id} {i}" for i in range(n)], vecs)
        self.vectors.update(zip(ids, vecs, strict=True))
        return ids

    def index(self) -> VectorIndex:
        """A loaded index of the variant."""
        index = vector_index(self.store, DIM, self.settings, self.backend)
        index.load()
        return index


@pytest.fixture(params=VARIANTS, ids=[f"{b}-{k}" for b, k in VARIANTS])
def built(request: pytest.FixtureRequest, tmp_path: Path) -> Built:
    """The store and index factory for one variant."""
    backend, kind = request.param
    return Built(tmp_path / "data", backend, kind)


def test_it_holds_every_stored_vector_in_its_structure(built: Built) -> None:
    index = built.index()
    assert index.dim == DIM and index.kind == built.kind
    assert index.ntotal == len(built.vectors) == DOCS * PER_DOC
    assert np.array_equal(np.sort(index.ids()), built.store.chunk_ids())
    some = next(iter(built.vectors))
    assert np.allclose(index.reconstruct(some), built.vectors[some], atol=1e-6)
    assert index.reconstruct(10**9) is None


def test_search_ranks_by_inner_product_and_finds_a_stored_vector_first(built: Built) -> None:
    index = built.index()
    for cid in list(built.vectors)[::37]:
        found = index.search(built.vectors[cid], 5, AllowedSet.everything())
        assert len(found) == 5 and found[0][0] == cid and found[0][1] == pytest.approx(1.0, abs=1e-5)
        assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
        assert all(s == pytest.approx(float(built.vectors[c] @ built.vectors[cid]), abs=1e-5) for c, s in found)


def test_search_returns_only_the_allowed_set(built: Built) -> None:
    index = built.index()
    all_ids = built.store.chunk_ids()
    query = unit_rows(1, 99)[0]
    half = all_ids[all_ids % 2 == 0]
    assert {c for c, _ in index.search(query, 20, AllowedSet.of(half, all_ids))} <= set(half.tolist())
    most = all_ids[3:]  # stored as the excluded ids
    assert {c for c, _ in index.search(query, 50, AllowedSet.of(most, all_ids))} <= set(most.tolist())
    three = all_ids[[5, 77, 200]]
    assert sorted(c for c, _ in index.search(query, 10, AllowedSet.of(three, all_ids))) == sorted(three.tolist())
    assert index.search(query, 10, AllowedSet.of(np.zeros(0, dtype=np.int64), all_ids)) == []


def test_searching_several_queries_at_once_gives_each_query_its_own_search(built: Built) -> None:
    index = built.index()
    all_ids = built.store.chunk_ids()
    queries = np.stack([unit_rows(1, 7)[0], built.vectors[int(all_ids[11])], unit_rows(1, 8)[0]])
    half, three = all_ids[all_ids % 2 == 0], all_ids[[5, 77, 200]]
    for allowed in (AllowedSet.everything(), AllowedSet.of(half, all_ids), AllowedSet.of(three, all_ids)):
        together = index.search_many(queries, 25, allowed)
        assert together == [index.search(q, 25, allowed) for q in queries]
        assert len(together) == 3 and all(together)
    assert index.search_many(queries, 5, AllowedSet.of(np.zeros(0, dtype=np.int64), all_ids)) == [[], [], []]


def test_sync_follows_chunks_added_and_removed_in_the_store(built: Built) -> None:
    index = built.index()
    new = built.add("late", seed=50, n=3)
    assert index.sync() > 0 and index.ntotal == DOCS * PER_DOC + 3
    assert index.search(built.vectors[new[1]], 1, AllowedSet.everything())[0][0] == new[1]
    gone = set(built.store.filtered_chunk_ids(Filters(document_ids=("doc0",))).tolist())
    remove_document(built.store, "doc0")
    index.sync()
    assert not gone & set(index.ids().tolist()) and index.ntotal == (DOCS - 1) * PER_DOC + 3
    for cid in list(gone)[:5]:
        assert all(c not in gone for c, _ in index.search(built.vectors[cid], 10, AllowedSet.everything()))


def test_a_published_index_loads_elsewhere_and_replays_later_changes(built: Built) -> None:
    index = built.index()
    query = unit_rows(1, 7)[0]
    expected = index.search(query, 10, AllowedSet.everything())
    path = index.publish()
    assert path.exists() and index.disk_bytes() > 0
    other = built.index()  # another process: loads the published file
    assert other.kind == built.kind and other.seq == index.seq
    assert other.search(query, 10, AllowedSet.everything()) == expected
    remove_document(built.store, "doc1")
    late = built.add("late", seed=60, n=2)
    third = built.index()  # the published file, then the log since
    assert np.array_equal(np.sort(third.ids()), built.store.chunk_ids())
    assert third.search(built.vectors[late[0]], 1, AllowedSet.everything())[0][0] == late[0]


def test_recall_against_exact_search_reaches_the_floor_unfiltered_and_within_a_filter(built: Built) -> None:
    update = {"ivf_nprobe": 0, "hnsw_ef_search": 0, "ann_recall": 0.98, "small_filter": 0}
    settings = built.settings.model_copy(update=update)
    index = vector_index(built.store, DIM, settings, built.backend)  # search effort calibrated to the floor at build
    index.load()
    ids = np.array(sorted(built.vectors))
    matrix = np.stack([built.vectors[int(i)] for i in ids])
    half = ids[ids % 2 == 0]  # a filter admitting half the chunks, spread over every list
    allowed = AllowedSet.of(half, ids)
    queries = unit_rows(100, seed=99)
    found = wanted = 0
    for q in queries:
        exact = ids[np.argsort(-(matrix @ q))[:10]]
        exact_in = [c for c in ids[np.argsort(-(matrix @ q))] if c % 2 == 0][:10]
        found += len({c for c, _ in index.search(q, 10, AllowedSet.everything())} & set(exact.tolist()))
        found += len({c for c, _ in index.search(q, 10, allowed)} & set(exact_in))
        wanted += 20
    assert found / wanted >= 0.98


def test_an_exhaustive_search_returns_every_allowed_chunk(built: Built) -> None:
    """Where the index says a search is exhaustive, a list shorter than k holds every allowed chunk (a result total
    can then say 'eq'); an approximate structure searching everything is not exhaustive."""
    index = built.index()
    all_ids = built.store.chunk_ids()
    three = all_ids[[5, 77, 200]]  # within the variant's small_filter (5): searched exactly by every structure
    query = unit_rows(1, 9)[0]
    for allowed in (AllowedSet.everything(), AllowedSet.of(three, all_ids)):
        if index.exhaustive(allowed):
            expected = len(all_ids) if allowed.ids is None else len(three)
            assert len(index.search(query, len(all_ids) + 10, allowed)) == expected
    assert index.exhaustive(AllowedSet.of(three, all_ids))
    assert index.exhaustive(AllowedSet.everything()) == (built.kind == "flat")
