"""Section support on an ingested PDF: an answer running from one subsection's page into its sibling's next page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pactkb.index.kb import KnowledgeBase
from pactkb.settings import Settings

QUERY = "deepfake detection tools for investigators"
FILLER = "The annual budget of the training unit is reviewed every spring by the management board. "


@pytest.fixture
def deepfake_kb(settings: Settings, make_pdf: Callable[..., Path]) -> KnowledgeBase:
    """A report whose answer starts under 'Deepfakes > Detection' (p. 2) and runs on under 'Deepfakes > New
    capacities' (p. 3), a later chapter (p. 4), and an unrelated report."""
    report = make_pdf(
        "deepfakes.pdf",
        [
            [("h1", "Introduction"), FILLER * 6],
            [
                ("h1", "Deepfakes"),
                ("h2", "Detection"),
                "Deepfake detection tools help investigators: detection tools for deepfake video and audio. " * 3,
            ],
            [("h2", "New capacities"), "Investigators need new capacities and tools. " + FILLER * 4],
            [("h1", "Budget"), "Investigators and tools. " + FILLER * 4],
        ],
        title="Facing reality: deepfakes",
    )
    other = make_pdf("budget.pdf", [[("h1", "Budget"), "Investigators and tools. " + FILLER * 4]], title="Budget")
    kb = KnowledgeBase(settings)
    kb.indexer.ingest([report, other])
    return kb


def scores(kb: KnowledgeBase, levels: int) -> dict[tuple[str, int], tuple[str, float]]:
    """(file, first page) -> (section, best hybrid score) with this section_support_levels."""
    kb.searcher.settings = kb.settings.model_copy(update={"section_support": 0.5, "section_support_levels": levels})
    res = kb.searcher.search(QUERY, k=20, mode="hybrid", collapse=False, snippets=False)
    out: dict[tuple[str, int], tuple[str, float]] = {}
    for h in res.results:
        out.setdefault((h.file, h.page_start), (h.section, h.score))
    return out


def test_the_sibling_subsections_next_page_continues_the_answer(deepfake_kb: KnowledgeBase) -> None:
    whole, top = scores(deepfake_kb, 0), scores(deepfake_kb, 1)
    detection, capacities = ("deepfakes.pdf", 2), ("deepfakes.pdf", 3)
    assert whole[detection][0] == "Deepfakes > Detection" and whole[capacities][0] == "Deepfakes > New capacities"
    assert whole[detection][1] > whole[capacities][1]  # the answer starts on page 2
    assert top[capacities][1] > whole[capacities][1]  # one heading level: page 3 continues page 2's answer
    assert top[detection][1] == pytest.approx(whole[detection][1])  # support flows one way: page 2 gains nothing
    later = ("deepfakes.pdf", 4)  # next page but another chapter: no support at either level
    assert top[later][1] == pytest.approx(whole[later][1])
