"""FAISS specifics (index/dense.py): IVF's nprobe calibrated to the recall floor and kept in the published file,
filtered IVF searches probing proportionally more lists, published files loaded memory-mapped, and HNSW (recall
floor, tombstones for removed chunks, incremental adds, rebuild past a tombstone share)."""

from __future__ import annotations

import json

import faiss
import numpy as np

from pactkb.index.dense import (
    EF_SEARCHES,
    NPROBES,
    AllowedSet,
    DenseIndex,
    build_ivf,
    calibrate_nprobe,
    ivf_nlist,
)
from pactkb.index.kb import KnowledgeBase
from pactkb.index.store import vector_blob
from pactkb.ingest.record import Record
from tests.index.contracts.conftest import add_document, new_store, remove_document

DIM = 24


def clustered(n: int, seed: int = 0) -> np.ndarray:
    """n normalised vectors around 40 centres (as passages of a few topics)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(40, DIM))
    x = centres[rng.integers(40, size=n)] + 0.6 * rng.normal(size=(n, DIM))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def recall_at(index: faiss.IndexIVF, vecs: np.ndarray, ids: np.ndarray, queries: np.ndarray, nprobe: int) -> float:
    """recall@10 of the index at nprobe against exact search."""
    _, truth = faiss.knn(queries, vecs, 10, metric=faiss.METRIC_INNER_PRODUCT)
    _, got = index.search(queries, 10, params=faiss.SearchParametersIVF(nprobe=nprobe))
    return sum(len(set(g) & set(t)) for g, t in zip(got.tolist(), ids[truth].tolist(), strict=True)) / truth.size


def test_calibration_reaches_the_floor_and_asks_more_lists_for_a_higher_one() -> None:
    both = clustered(6200)
    vecs, queries, ids = both[:6000], both[6000:], np.arange(100, 6100, dtype=np.int64)  # held-out queries
    index = build_ivf(vecs, ids, DIM, nprobe=3)
    for floor in (0.9, 0.98):
        nprobe = calibrate_nprobe(index, vecs, ids, floor)
        assert recall_at(index, vecs, ids, queries, nprobe) >= floor  # held-out queries: calibrated conservatively
        assert nprobe in NPROBES and nprobe < index.nlist
    assert calibrate_nprobe(index, vecs, ids, 0.9) <= calibrate_nprobe(index, vecs, ids, 0.98)
    assert build_ivf(vecs, ids, DIM, recall=0.98).nprobe == calibrate_nprobe(index, vecs, ids, 0.98)


def test_the_calibrated_nprobe_is_published_with_the_index_and_a_setting_overrides_it(tmp_path) -> None:
    store = new_store(tmp_path / "data")
    add_document(store, "doc", [f"passage {i}" for i in range(3000)], clustered(3000))
    built = DenseIndex(store, DIM, kind="ivf", nprobe=0, recall=0.98)
    built.load()
    assert built.kind == "ivf" and built.nprobe == built.index.nprobe > 0
    built.publish()
    loaded = DenseIndex(store, DIM, kind="ivf", nprobe=0)
    loaded.load()
    assert loaded.nprobe == built.nprobe
    fixed = DenseIndex(store, DIM, kind="ivf", nprobe=5)
    fixed.load()
    assert fixed.nprobe == 5 and fixed.filtered_nprobe(3000) == 5


def test_a_filtered_ivf_search_probes_more_lists_and_still_fills_the_page(tmp_path) -> None:
    store = new_store(tmp_path / "data")
    vecs = clustered(4001)
    ids = np.array(add_document(store, "doc", [f"passage {i}" for i in range(4000)], vecs[:4000]))
    index = DenseIndex(store, DIM, kind="ivf", nprobe=2, small_filter=0)
    index.load()
    assert index.filtered_nprobe(400) == 20 and index.filtered_nprobe(4000) == 2
    assert index.filtered_nprobe(1) == index.index.nlist  # never more lists than there are
    tenth = ids[ids % 10 == 0]
    query = vecs[4000]
    found = index.search(query, 10, AllowedSet.of(tenth, ids))
    assert len(found) == 10 and {c for c, _ in found} <= set(tenth.tolist())
    vectors = store.vectors(tenth.tolist())
    exact = sorted(tenth.tolist(), key=lambda c: -float(vectors[c] @ query))[:10]
    assert len({c for c, _ in found} & set(exact)) >= 8


# -- memory-mapped loading: published files are shared between server workers and answer as in memory ----------

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


# -- HNSW: calibrated to the floor, removals as tombstones that no search returns, rebuilt past a share ----------


def _hnsw_store(tmp_path, n: int = 3000) -> tuple[DenseIndex, np.ndarray, np.ndarray]:
    """A store of 30 documents over n clustered vectors and an auto index forced to HNSW by a low threshold."""
    store = new_store(tmp_path / "data")
    vecs = clustered(n + 200)[:n]  # the last 200 are held-out queries
    per = n // 30
    ids = np.concatenate(
        [
            add_document(store, f"doc{d}", [f"p {d} {i}" for i in range(per)], vecs[d * per : (d + 1) * per])
            for d in range(30)
        ]
    )
    index = DenseIndex(store, DIM, kind="auto", ann_threshold=1000, small_filter=0, recall=0.98, ann="hnsw")
    index.load()
    return index, ids, vecs


def _recall(index: DenseIndex, ids: np.ndarray, vecs: np.ndarray, queries: np.ndarray, allowed: np.ndarray) -> float:
    """recall@10 of index searches within `allowed` against exact search over those vectors."""
    keep = np.isin(ids, allowed)
    sub_ids, sub = ids[keep], vecs[keep]
    found = 0
    for q in queries:
        exact = set(sub_ids[np.argsort(-(sub @ q))[:10]].tolist())
        sel = AllowedSet.everything() if keep.all() else AllowedSet.of(allowed, ids)
        found += len({c for c, _ in index.search(q, 10, sel)} & exact)
    return found / (10 * len(queries))


def test_hnsw_reaches_the_recall_floor_unfiltered_and_within_a_filter(tmp_path):
    index, ids, vecs = _hnsw_store(tmp_path)
    assert index.kind == "hnsw" and index.ef_search in EF_SEARCHES
    queries = clustered(3200)[3000:]  # held out: around the same topics, not stored, not the calibration's
    assert _recall(index, ids, vecs, queries, ids) >= 0.98
    third = ids[(np.arange(len(ids)) // 100) % 3 == 0]  # whole documents, as a doc-type filter admits them
    assert index.filtered_ef(len(third)) >= 3 * index.ef_search - 2
    assert _recall(index, ids, vecs, queries, third) >= 0.98
    assert index.search(queries[0], 10, AllowedSet.of(third, ids)) and all(
        c in set(third.tolist()) for q in queries for c, _ in index.search(q, 10, AllowedSet.of(third, ids))
    )


def test_hnsw_removals_become_tombstones_that_no_search_returns_even_after_reload(tmp_path):
    index, ids, vecs = _hnsw_store(tmp_path)
    remove_document(index.store, "doc0")
    remove_document(index.store, "doc1")
    assert index.sync() > 0
    gone = set(ids[:200].tolist())
    assert index.dead == 200 and index.ntotal == len(ids) - 200 and not gone & set(index.ids().tolist())
    most = ids[5:]  # a filter stored as the excluded ids (IDSelectorNot): tombstones must not slip through it
    for q in vecs[:200:7]:  # the removed vectors themselves: their nearest neighbours
        assert not gone & {c for c, _ in index.search(q, 50, AllowedSet.everything())}
        assert not gone & {c for c, _ in index.search(q, 50, AllowedSet.of(most, ids))}
    assert index.reconstruct(int(ids[0])) is None
    index.publish()
    reader = DenseIndex(index.store, DIM, kind="auto", ann_threshold=1000, ann="hnsw")
    reader.load()  # the published graph, tombstones and all
    assert reader.mapped and reader.kind == "hnsw" and reader.dead == 200 and reader.ef_search == index.ef_search
    for q in vecs[:200:7]:
        assert not gone & {c for c, _ in reader.search(q, 50, AllowedSet.everything())}
        assert reader.search(q, 10, AllowedSet.everything()) == index.search(q, 10, AllowedSet.everything())


def test_hnsw_adds_chunks_incrementally_and_is_rebuilt_once_tombstones_would_pass_the_share(tmp_path):
    index, ids, vecs = _hnsw_store(tmp_path)
    late = clustered(40, seed=9)
    new = add_document(index.store, "late", [f"late {i}" for i in range(40)], late)
    index.sync()
    assert index.kind == "hnsw" and index.ntotal == len(ids) + 40
    assert all(index.search(late[i], 1, AllowedSet.everything())[0][0] == new[i] for i in range(0, 40, 5))
    for d in range(2):  # 200 of 3040 removed: under the 10% share, kept as tombstones
        remove_document(index.store, f"doc{d}")
    index.sync()
    assert index.dead == 200
    for d in range(2, 4):  # 400: past the share, the graph is built afresh
        remove_document(index.store, f"doc{d}")
    index.sync()
    path = index.publish()
    assert index.kind == "hnsw" and index.dead == 0 and index.index.ntotal == len(ids) - 400 + 40
    assert json.loads((path.parent / "dense.json").read_text())["tombstones"] == 0
    assert np.array_equal(np.sort(index.ids()), index.store.chunk_ids())


def test_hnsw_replaying_a_re_embedding_rebuilds_rather_than_filling_the_graph_with_tombstones(tmp_path):
    index, ids, vecs = _hnsw_store(tmp_path)
    new = clustered(len(ids), seed=3)
    with index.store.transaction() as tx:  # as swap_reembedded: new vectors, every chunk logged out, then in
        tx.con.executemany(
            "UPDATE chunks SET vector = ? WHERE id = ?",
            [(vector_blob(v), int(c)) for c, v in zip(ids, new, strict=True)],
        )
        for op in (-1, 1):
            tx.con.execute("INSERT INTO index_log (chunk_id, op) SELECT id, ? FROM chunks ORDER BY id", (op,))
    assert index.sync() == 2 * len(ids)
    assert index.kind == "hnsw" and index.dead == 0 and index.index.ntotal == len(ids)
    assert np.array_equal(np.sort(index.ids()), np.sort(ids))
    assert np.allclose(index.reconstruct(int(ids[7])), new[7], atol=1e-6)
    assert index.search(new[7], 1, AllowedSet.everything())[0][0] == ids[7]


# -- auto: the index chosen by the store's size ----------------------------------------------------------------------


def test_auto_is_exact_then_hnsw_then_ivf_as_the_store_grows_and_a_publish_moves_it_on(tmp_path):
    store = new_store(tmp_path / "data")
    vecs = clustered(2400)
    add_document(store, "a", [f"p {i}" for i in range(900)], vecs[:900])
    sizes = {"kind": "auto", "ann_threshold": 1000, "recall": 0.98, "ann": "auto", "ivf_threshold": 2000}
    index = DenseIndex(store, DIM, **sizes, ivf_lists=5.0)
    index.load()
    assert index.kind == "flat"
    add_document(store, "b", [f"q {i}" for i in range(600)], vecs[900:1500])
    index.publish()  # 1,500 chunks: past the approximate threshold
    assert index.kind == "hnsw" and index.ntotal == 1500
    add_document(store, "c", [f"r {i}" for i in range(900)], vecs[1500:])
    index.publish()  # 2,400 chunks: past the IVF threshold, with 5 * sqrt(n) lists
    assert index.kind == "ivf" and index.ntotal == 2400 and index.index.nlist == int(5 * 2400**0.5)
    reader = DenseIndex(store, DIM, **sizes)
    reader.load()  # the published IVF file, nprobe calibrated at build
    assert reader.kind == "ivf" and reader.nprobe == index.nprobe > 0
    assert np.array_equal(np.sort(reader.ids()), np.sort(store.chunk_ids()))
    for ann, kind in (("hnsw", "hnsw"), ("ivf", "ivf")):  # a fixed ann_index ignores ivf_threshold
        fixed = DenseIndex(store, DIM, **(sizes | {"ann": ann}))
        fixed.build()
        assert fixed.kind == kind


def test_ivf_lists_grow_with_the_square_root_of_the_store_within_bounds() -> None:
    assert ivf_nlist(1_000_000) == 4000 and ivf_nlist(1_000_000, 8.0) == 8000
    assert ivf_nlist(100) == 12 and ivf_nlist(400) == 50  # n / 8 caps small stores; at least 16 otherwise
    assert ivf_nlist(10**12) == 65536
