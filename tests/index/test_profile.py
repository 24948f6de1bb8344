"""Search profiles (index/profile.py): time per stage that adds up to the total; the query-vector LRU."""

from __future__ import annotations

import numpy as np
import pytest

from pactkb.index.embed import FakeEncoder
from pactkb.index.filters import Filters
from pactkb.index.kb import KnowledgeBase
from pactkb.index.profile import STAGES, StageTimer

CORE = ("encode", "dense", "lexical", "fusion", "collapse", "snippets", "rows")


class CountingEncoder(FakeEncoder):
    """The fake encoder, counting the query texts it encodes."""

    def __init__(self) -> None:
        """A 64-dimensional fake with no queries encoded yet."""
        super().__init__(dim=64, max_tokens=64, name="fake")
        self.queries: list[str] = []

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Count, then encode as the fake does."""
        self.queries.extend(texts)
        return super().encode_queries(texts)


@pytest.fixture
def counted(settings, sample_dir) -> tuple[KnowledgeBase, CountingEncoder]:
    """The sample corpus behind a counting encoder."""
    encoder = CountingEncoder()
    kb = KnowledgeBase(settings, encoder=encoder)
    kb.indexer.ingest([sample_dir])
    return kb, encoder


def test_stage_timer_adds_repeated_stages_and_accounts_for_the_rest() -> None:
    timer = StageTimer()
    with timer.stage("dense"):
        sum(range(10_000))
    with timer.stage("dense"):
        sum(range(10_000))
    with timer.stage("custom"):
        pass
    t = timer.timings()
    assert list(t)[: len(STAGES)] == list(STAGES) and list(t)[-3:] == ["custom", "other", "total"]
    assert t["dense"] > 0 and t["lexical"] == 0.0
    assert sum(v for k, v in t.items() if k != "total") == pytest.approx(t["total"], abs=0.05)


def test_a_nested_stage_counts_for_itself_only(monkeypatch) -> None:
    clock = iter([0.0, 1.0, 2.0, 5.0, 6.0])  # start; translate opens; encode opens, closes; translate closes
    monkeypatch.setattr("pactkb.index.profile.time.perf_counter", lambda: next(clock))
    timer = StageTimer()
    with timer.stage("translate"):
        with timer.stage("encode"):
            pass
    assert timer.ms == {"encode": 3000.0, "translate": 2000.0}  # translate's 5 s less the 3 s encode inside it


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_every_search_reports_its_stages_and_they_add_up_to_the_total(counted, mode: str) -> None:
    kb, _ = counted
    res = kb.searcher.search("cash couriers at border crossings", k=5, mode=mode, filters=Filters(year_min=2020))
    t = res.timings
    assert t is not None and set(CORE) <= set(t) and all(v >= 0 for v in t.values())
    assert sum(v for k, v in t.items() if k != "total") == pytest.approx(t["total"], abs=0.1)
    assert res.took_ms == t["total"] > 0
    assert (t["dense"] > 0) == (mode != "lexical") and (t["lexical"] > 0) == (mode != "dense")
    assert t["rows"] > 0 and t["snippets"] > 0 and t["fusion"] > 0


def test_a_repeated_query_does_not_call_the_encoder_again(counted) -> None:
    kb, encoder = counted
    first = kb.searcher.search("cash couriers at border crossings", k=5, mode="dense")
    assert encoder.queries.count("cash couriers at border crossings") == 1
    again = kb.searcher.search("cash couriers at border crossings", k=5, offset=5, mode="dense")  # the next page
    assert encoder.queries.count("cash couriers at border crossings") == 1
    assert {h.chunk_id for h in first.results}.isdisjoint(h.chunk_id for h in again.results)
    kb.searcher.search("terrorist financing indicators", k=5, mode="dense")
    assert encoder.queries.count("terrorist financing indicators") == 1


def test_the_query_vector_cache_holds_at_most_its_setting(settings, sample_dir) -> None:
    encoder = CountingEncoder()
    kb = KnowledgeBase(settings.model_copy(update={"query_cache": 2}), encoder=encoder)
    kb.indexer.ingest([sample_dir])
    for q in ("cash couriers", "money laundering", "drug trafficking", "cash couriers"):
        kb.searcher.search(q, k=3, mode="dense")
    assert encoder.queries.count("cash couriers") == 2  # pushed out by the two queries between
    assert len(kb.searcher._vectors) == 2
