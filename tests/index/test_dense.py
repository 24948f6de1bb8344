"""FAISS specifics (index/dense.py): IVF's nprobe calibrated to the recall floor and kept in the published file, and
filtered IVF searches probing proportionally more lists."""

from __future__ import annotations

import faiss
import numpy as np

from pactkb.index.dense import NPROBES, AllowedSet, DenseIndex, build_ivf, calibrate_nprobe
from tests.index.contracts.conftest import add_document, new_store

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
