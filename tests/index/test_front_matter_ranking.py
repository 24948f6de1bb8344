"""Front matter in ranking: a cover carrying the query's words stays searchable but ranks below the text."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pactkb.index.kb import KnowledgeBase
from pactkb.ingest.regions import FRONT
from pactkb.settings import Settings

QUERY = "human trafficking response guide for school resource officers"
TEXT = (
    "School resource officers who suspect human trafficking follow the response protocol of the school: they "
    "report to the designated contact, call the hotline and never confront the suspected trafficker alone. "
)
OTHER = "The annual budget of the training unit is reviewed every spring by the management board. "


@pytest.fixture
def guide_kb(settings: Settings, make_pdf: Callable[..., Path]) -> KnowledgeBase:
    """A guide whose cover is its title (the query's words) and whose page 3 holds the answer."""
    guide = make_pdf(
        "guide.pdf",
        [
            [("h1", "Human trafficking response guide"), ("h2", "for school resource officers")],
            [("h1", "About the unit"), OTHER * 5],
            [("h1", "How to respond"), TEXT * 3],
        ],
        outline=False,
    )
    kb = KnowledgeBase(settings)
    kb.indexer.ingest([guide])
    return kb


def first_pages(kb: KnowledgeBase, weight: float) -> list[tuple[int, str, float]]:
    """(page, region, score) of the hybrid hits with this front-matter weight (short passages not demoted), best
    first."""
    weights = {**kb.settings.region_weights, FRONT: weight}
    update = {"region_weights": weights, "short_passage_weight": 1.0}  # the cover alone, not its length
    kb.searcher.settings = kb.settings.model_copy(update=update)
    res = kb.searcher.search(QUERY, k=10, mode="hybrid", collapse=False, snippets=False)
    return [(h.page_start, h.region, h.score) for h in res.results]


def test_a_cover_with_the_querys_words_ranks_below_the_text_but_stays_searchable(guide_kb: KnowledgeBase) -> None:
    undemoted = first_pages(guide_kb, 1.0)
    assert undemoted[0][:2] == (1, FRONT)  # the title matches every word of the query
    demoted = first_pages(guide_kb, Settings().region_weights[FRONT])
    assert demoted[0][:2] == (3, "body")
    cover = [score for pno, region, score in demoted if pno == 1 and region == FRONT]
    assert cover and cover[0] < undemoted[0][2]  # still found, with a lower score
