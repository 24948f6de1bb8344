"""Short passages in ranking: a bare title carrying the query's words ranks below the text that answers it when
short passages are demoted (short_passage_weight), and stays searchable."""

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
    """A guide whose first page is only its title (the query's words) and whose page 3 holds the answer."""
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


def ranked(kb: KnowledgeBase, weight: float) -> list[tuple[int, float]]:
    """(first page, score) of the hybrid hits with this short-passage weight (no region demoted), best first."""
    update = {"short_passage_weight": weight, "region_weights": {FRONT: 1.0}}
    kb.searcher.settings = kb.settings.model_copy(update=update)
    res = kb.searcher.search(QUERY, k=10, mode="hybrid", collapse=False, snippets=False)
    return [(h.page_start, h.score) for h in res.results]


def test_a_bare_title_ranks_below_the_answer_when_short_passages_are_demoted(guide_kb: KnowledgeBase) -> None:
    tokens = guide_kb.store.conn().execute("SELECT page_start, n_tokens FROM chunks ORDER BY ord").fetchall()
    assert tokens[0][0] == 1 and tokens[0][1] < Settings().short_passage_tokens  # the title page: one short chunk
    off = ranked(guide_kb, 1.0)
    assert off[0][0] == 1  # the title matches every word of the query
    on = ranked(guide_kb, 0.5)
    assert on[0][0] == 3
    title = [score for page, score in on if page == 1]
    assert title and title[0] == pytest.approx(off[0][1] * 0.5)  # still found, its score halved
