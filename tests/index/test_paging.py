"""Bounded cost per search: a deep-paging window, bounded candidate depth, near-duplicate collapse in O(n·k)."""

import tracemalloc

import numpy as np
import pytest

from pactkb.index.kb import KnowledgeBase
from pactkb.index.results import Hit, SearchError


@pytest.fixture
def sample_kb(settings, sample_dir) -> KnowledgeBase:
    kb = KnowledgeBase(settings)
    kb.indexer.ingest([sample_dir])
    return kb


def synthetic_hits(n: int, dim: int = 64, seed: int = 0) -> tuple[list[Hit], dict[int, np.ndarray]]:
    """n hits over 50 documents with random unit vectors; every fifth repeats an earlier one (a near-duplicate)."""
    rng = np.random.default_rng(seed)
    vecs: dict[int, np.ndarray] = {}
    hits = []
    for i in range(n):
        v = rng.normal(size=dim).astype(np.float32)
        if i % 5 == 4:
            v = vecs[i - 3] + rng.normal(scale=0.01, size=dim).astype(np.float32)
        vecs[i] = v / np.linalg.norm(v)
        hits.append(
            Hit(
                chunk_id=i,
                document_id=f"d{i % 50}",
                score=1 / (i + 1),
                text="t",
                title="T",
                file="f.pdf",
                page_start=i,
                page_end=i,
                label_start=None,
                label_end=None,
                section="",
                publisher=None,
                year=2000 + i % 7,
                doc_type="guideline",
                language="en",
                areas=[],
                sensitivity="public",
            )
        )
    return hits, vecs


def test_paging_beyond_the_window_is_refused_naming_offset(sample_kb):
    window = sample_kb.settings.max_result_window
    assert sample_kb.searcher.search("cash couriers", k=10, offset=window - 10).offset == window - 10
    with pytest.raises(SearchError, match="offset.*max_result_window") as err:
        sample_kb.searcher.search("cash couriers", k=10, offset=window - 9)
    assert err.value.field == "offset"


@pytest.mark.parametrize("group", [False, True])
def test_candidate_depth_is_bounded_by_the_window(sample_kb, monkeypatch, group):
    depths = []
    real = sample_kb.dense.search
    monkeypatch.setattr(sample_kb.dense, "search", lambda q, k, *a: depths.append(k) or real(q, k, *a))
    window = sample_kb.settings.max_result_window
    sample_kb.searcher.search("cash couriers", k=10, offset=window - 10, mode="dense", group_by_document=group)
    assert depths and max(depths) <= (4 if group else 2) * window


def test_collapse_stops_at_the_page_and_keeps_its_results(sample_kb):
    searcher = sample_kb.searcher
    hits, vecs = synthetic_hits(4000)
    full = searcher.collapse(synthetic_hits(4000)[0], vecs)
    tracemalloc.start()
    page = searcher.collapse(hits, vecs, need=30)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 8 * 1024 * 1024  # an n×n similarity matrix of 4,000 hits alone is 64 MB
    assert [h.chunk_id for h in page[:30]] == [h.chunk_id for h in full[:30]]
    assert [h.also_in for h in page[:30]] == [h.also_in for h in full[:30]]
    assert any(h.also_in for h in full[:30])


def test_full_collapse_never_builds_an_n_by_n_matrix(sample_kb):
    hits, vecs = synthetic_hits(3000)
    tracemalloc.start()
    out = sample_kb.searcher.collapse(hits, vecs)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(out) < len(hits) and peak < 16 * 1024 * 1024  # 3,000² float32 = 36 MB


def test_every_page_within_the_shared_depth_reports_the_same_total_and_facets(settings, sample_dir):
    """Pages 1, 2 and 3 of one query rank, count and facet the same candidates (total_depth); the total says whether
    it is exact ('eq') or a lower bound ('gte', a retriever's list was cut at the depth)."""
    kb = KnowledgeBase(settings.model_copy(update={"candidates": 10, "total_depth": 40}))
    kb.indexer.ingest([sample_dir])
    pages = [kb.searcher.search("cash couriers border", k=5, offset=o) for o in (0, 5, 10)]
    assert len({p.total for p in pages}) == 1 and pages[0].total > 15
    assert all(p.facets == pages[0].facets for p in pages)
    assert {p.total_relation for p in pages} == {"gte"}  # more than 40 chunks: the dense list was cut at 40
    seen = [h.chunk_id for p in pages for h in p.results]
    assert len(seen) == len(set(seen))  # the pages do not overlap: one ranking
    deep = kb.searcher.search("cash couriers border", k=5, offset=40)  # beyond the shared depth: searched deeper
    assert deep.total >= pages[0].total  # (exact here: at depth 90 no list of the small corpus is cut)
    grouped = [kb.searcher.search("cash couriers border", k=2, offset=o, group_by_document=True) for o in (0, 2, 4)]
    assert len({p.total for p in grouped}) == 1 and all(p.facets == grouped[0].facets for p in grouped)


def test_a_total_is_exact_when_no_retriever_was_cut(sample_kb):
    chunks = sample_kb.store.conn().execute("SELECT count(*) FROM chunks").fetchone()[0]
    assert chunks < sample_kb.settings.total_depth  # the sample corpus fits in the default depth
    res = sample_kb.searcher.search("cash couriers border", k=5)
    assert res.total_relation == "eq" and 0 < res.total <= chunks
    assert sample_kb.searcher.search("cash couriers border", k=5, offset=5).total == res.total
    similar = sample_kb.searcher.similar(res.results[0].chunk_id, k=3)
    assert similar.total_relation == "eq"


def test_a_total_from_an_approximate_search_is_a_lower_bound(sample_kb, monkeypatch):
    """An approximate (HNSW/IVF, filtered) search may return fewer passages than exist: even short lists then give
    'gte', never a wrong 'eq' (which structures are exact: the vector index contract)."""
    assert sample_kb.searcher.search("cash couriers border", k=5).total_relation == "eq"
    monkeypatch.setattr(sample_kb.searcher.dense, "exhaustive", lambda allowed: False)
    res = sample_kb.searcher.search("cash couriers border", k=5)
    assert res.total_relation == "gte"
    assert sample_kb.searcher.similar(res.results[0].chunk_id, k=3).total_relation == "gte"
    assert sample_kb.searcher.search("cash couriers border", k=5, mode="lexical").total_relation == "eq"  # BM25: exact
    monkeypatch.setattr(
        sample_kb.searcher, "common_terms", lambda *args, **kwargs: {"border"}
    )  # a large store's pruning
    assert sample_kb.searcher.search("cash couriers border", k=5, mode="lexical").total_relation == "gte"
