"""Section paths from outlines and detected headings."""

from pactkb.ingest.sections import SectionIndex, detect_headings, headings_from_outline
from pactkb.ingest.types import Heading


def test_section_path_nests_by_level():
    idx = SectionIndex([Heading(1, "2. Cash", 3, 0), Heading(2, "2.1 Couriers", 3, 100), Heading(1, "3. NPOs", 5, 0)])
    assert idx.path_at(3, 50) == "2. Cash"
    assert idx.path_at(4, 0) == "2. Cash > 2.1 Couriers"
    assert idx.path_at(5, 10) == "3. NPOs"
    assert idx.path_at(1, 0) == ""


def test_outline_junk_dropped_and_offsets_located():
    pages = ["Front matter", "Intro text\n2. Cash couriers\nCash remains"]
    heads = headings_from_outline(
        [(1, "Front Cover October 2025", 1), (1, "report.pdf", 1), (1, "2. Cash couriers", 2)], pages
    )
    assert [h.title for h in heads] == ["2. Cash couriers"]
    assert pages[1][heads[0].offset :].startswith("2. Cash couriers")


def test_detected_headings_numbered_caps_and_keyword():
    page = (
        "1. Introduction\nThese guidelines describe practice.\nANNEX ON VIRTUAL ASSETS\nArticle 5 Definitions\n"
        "1. Countries should identify, assess, and\nunderstand the risks."
    )
    heads = detect_headings([page])
    titles = [h.title for h in heads]
    assert "1. Introduction" in titles and "ANNEX ON VIRTUAL ASSETS" in titles and "Article 5 Definitions" in titles
    assert not any(t.startswith("1. Countries") for t in titles)


def test_markdown_headings():
    heads = detect_headings(["# Насоки\n\ntext\n\n## 2. Контролирана испорака\n\nmore"], markdown=True)
    assert [(h.level, h.title) for h in heads] == [(1, "Насоки"), (2, "2. Контролирана испорака")]


def test_footnotes_are_not_headings():
    page = (
        "7 S/2024/556, para. 94; see reference sources cited at www.un.org\n12 Ibid., p. 4\n3. Risk Assessment\nText."
    )
    assert [h.title for h in detect_headings([page])] == ["3. Risk Assessment"]
