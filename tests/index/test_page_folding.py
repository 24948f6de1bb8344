"""A page already listed does not take a second slot: another chunk of it yields to a different page."""

from __future__ import annotations

from pathlib import Path

import pytest

from pactkb.index.kb import KnowledgeBase
from pactkb.settings import Settings

LONG = " ".join(
    f"Paragraph {i}: cash couriers carry undeclared cash across the border and customs officers record every "
    "seizure of cash." + " Unrelated filler about training schedules and office hours." * 6
    for i in range(6)
)


@pytest.fixture
def pages_kb(tmp_path: Path) -> KnowledgeBase:
    """A one-page text whose many chunks all match the query, and a short document that matches it less well."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "long.txt").write_text(LONG, encoding="utf-8")
    short = "A note on the border." + " Training schedules and office hours." * 8
    (docs / "short.txt").write_text(short, encoding="utf-8")
    kb = KnowledgeBase(Settings(data=tmp_path / "data", model="fake:64", parse_workers=0, dictionaries=""))
    kb.indexer.ingest([docs])
    return kb


def files(kb: KnowledgeBase, weight: float) -> list[str]:
    """The files of the first results (lexical mode: deterministic) with this same_page_weight."""
    kb.searcher.settings = kb.settings.model_copy(update={"same_page_weight": weight})
    res = kb.searcher.search("cash couriers border customs seizure", k=3, mode="lexical", collapse=False)
    return [h.file for h in res.results]


def test_a_second_chunk_of_a_listed_page_yields_to_another_page(pages_kb):
    assert files(pages_kb, 1.0)[:2] == ["long.txt", "long.txt"]  # off: the page's chunks fill the top
    assert files(pages_kb, 0.0)[:2] == ["long.txt", "short.txt"]


def test_section_support_applies_to_hybrid_fused_scores_only(pages_kb, monkeypatch):
    """Dense and lexical modes rank raw cosines / BM25 scores, where a share of a neighbour's score would outweigh
    the ranking (domain set: dense 0.423 -> 0.368 with it), so only hybrid mode gets the support."""
    import pactkb.index.hybrid as hybrid

    shares: list[tuple[float, int]] = []
    real = hybrid.support_sections

    def spy(f, r, share, levels=0):  # type: ignore[no-untyped-def]
        shares.append((share, levels))
        return real(f, r, share, levels)

    monkeypatch.setattr(hybrid, "support_sections", spy)
    update = {"section_support": 0.3, "section_support_levels": 1}
    pages_kb.searcher.settings = pages_kb.settings.model_copy(update=update)
    for mode in ("hybrid", "dense", "lexical"):
        pages_kb.searcher.search("cash couriers border", k=3, mode=mode)
    assert shares == [(0.3, 1), (0.0, 1), (0.0, 1)]  # the unit setting reaches the support
