"""Front matter: cover, title and imprint pages, acknowledgements and blank-page notices recognised at ingest (each
PDF test runs with both page-text extractors, PDFium and pypdf)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pactkb.ingest.chunk import chunk_pages
from pactkb.ingest.parse import ParseOptions, parse_file
from pactkb.ingest.regions import FRONT, is_front_page, mark_front_matter
from pactkb.ingest.sections import SectionIndex
from pactkb.ingest.types import Page
from tests.ingest.conftest import read_by

TEXT = (
    "Correspondent banking is the provision of banking services by one bank to another bank. It enables "
    "respondent banks to offer cross-border payments, and the correspondent applies due diligence to the "
    "respondent's customers and controls according to the risk of the relationship. "
)
IMPRINT = (
    "© 2016 FATF/OECD. All rights reserved. No reproduction or translation of this publication may be made "
    "without prior written permission. Citing reference: FATF (2016), Guidance on correspondent banking services, "
    "FATF, Paris."
)
TITLE_LINES = [
    "Guidance on correspondent banking services",
    "for banks, supervisors and financial intelligence units",
    "prepared by the Financial Action Task Force",
    "with the Basel Committee on Banking Supervision",
    "and the Committee on Payments and Market Infrastructures",
    "adopted by the plenary in October 2016",
]


def regions(doc_pages: list[Page]) -> list[str]:
    """The region of each page."""
    return [p.region for p in doc_pages]


def test_cover_imprint_and_acknowledgements_before_the_text_are_front_matter(
    make_pdf: Callable[..., Path], opts: ParseOptions
) -> None:
    toc = [("h1", "Contents"), *[("toc", f"{t}|{p}") for t, p in [("Acknowledgements", 4), ("Introduction", 5)]]]
    toc += [("toc", f"{t}|{p}") for t, p in [("Scope", 6), ("Risk", 7), ("Controls", 8)]]
    path = make_pdf(
        "guide.pdf",
        [
            [("h1", "FATF Guidance"), ("h2", "Correspondent banking services"), "October 2016"],
            [IMPRINT],
            toc,
            [("h1", "Acknowledgements"), "The guidance was drafted by the project team and the delegations. " * 3],
            [("h1", "Introduction"), TEXT * 3],
            [TEXT * 3],
            ["This page intentionally left blank"],
            [("h1", "Scope"), TEXT * 3],
        ],
        outline=False,
    )
    doc = read_by(parse_file(path, opts))
    assert regions(doc.pages) == [FRONT, FRONT, "contents", FRONT, "body", "body", FRONT, "body"]
    assert any(h.title == "FATF Guidance" for h in doc.headings)  # the cover's title still heads the document
    chunks = chunk_pages(doc.pages, SectionIndex(doc.headings), lambda t: len(t.split()), max_tokens=200)
    cover = [c for c in chunks if c.page_start == 1]
    assert cover and {c.region for c in cover} == {FRONT}
    text = [c for c in chunks if c.page_start == 5]
    assert {c.region for c in text} == {"body"}
    assert "FATF Guidance" not in text[0].text and "All rights reserved" not in text[0].text
    assert all(c.region == FRONT for c in chunks if "intentionally left blank" in c.text)


def test_a_title_page_is_told_from_a_first_page_of_text_by_its_typography(
    make_pdf: Callable[..., Path], opts: ParseOptions
) -> None:
    """The same forty words on page 1: set like a title they are front matter, set like body text they are text."""
    as_title = make_pdf("title.pdf", [[("h2", line) for line in TITLE_LINES], [TEXT * 3]], outline=False)
    as_text = make_pdf("letter.pdf", [[" ".join(TITLE_LINES) + "."], [TEXT * 3]], outline=False)
    assert 25 < len(" ".join(TITLE_LINES).split()) <= 80
    assert regions(read_by(parse_file(as_title, opts)).pages) == [FRONT, "body"]
    assert regions(read_by(parse_file(as_text, opts)).pages) == ["body", "body"]


def test_a_document_of_only_short_pages_has_no_front_matter(make_pdf: Callable[..., Path], opts: ParseOptions) -> None:
    """Without a page of text after them there is nothing to tell front matter from: a short note stays text."""
    note = make_pdf("note.pdf", [["Meeting moved to Thursday at ten."]], outline=False)
    two = make_pdf("two.pdf", [[("h1", "Annual report 2024")], [IMPRINT]], outline=False)
    assert regions(read_by(parse_file(note, opts)).pages) == ["body"]
    assert regions(read_by(parse_file(two, opts)).pages) == ["body", "body"]


def page(number: int, text: str, **kw: object) -> Page:
    """A page of plain text (no typography unless given)."""
    return Page(number=number, text=text, **kw)  # type: ignore[arg-type]


def test_only_the_pages_before_the_first_page_of_text_are_front_matter() -> None:
    """An imprint-like page after the text has started (a quoted copyright notice) stays body text."""
    pages = [page(1, "Annual report 2024"), page(2, TEXT * 2), page(3, IMPRINT), page(4, TEXT)]
    assert mark_front_matter(pages) == 1
    assert regions(pages) == [FRONT, "body", "body", "body"]


def test_front_page_rules_on_plain_text() -> None:
    assert is_front_page(page(1, IMPRINT))  # two kinds of notice
    assert is_front_page(page(1, "Note\n" + TEXT[:300] + "\nISSN 0251-9941"))  # one notice on a short page
    assert not is_front_page(page(1, TEXT * 2 + " ISBN 978-92-95236-23-3"))  # one notice on a page of text
    assert is_front_page(page(1, "Acknowledgements\n" + TEXT * 2))  # titled
    assert is_front_page(page(9, "This page intentionally left blank."))
    assert not is_front_page(page(1, "Short title", notes="1 A footnote under it."))  # a cover has no footnotes
    assert is_front_page(page(2, TEXT, notes=IMPRINT))  # the imprint set small at the foot, cut out as notes
    assert not is_front_page(page(2, TEXT, notes="1 FATF (2016), Guidance, p. 3."))  # real footnotes
    words_40 = " ".join(TITLE_LINES)
    assert not is_front_page(page(1, words_40))  # forty words without typography: not judged a title
    typeset = {"".join(line.split()).lower(): 14.0 for line in TITLE_LINES}
    assert is_front_page(page(1, "\n".join(TITLE_LINES), heading_lines=typeset))
    body = {"".join(line.split()).lower() for line in TITLE_LINES}
    assert not is_front_page(page(1, "\n".join(TITLE_LINES), body_lines=body))


def test_a_cover_title_is_not_glued_to_the_first_page_of_text(
    make_pdf: Callable[..., Path], opts: ParseOptions
) -> None:
    """A cover is too short for a chunk of its own size; it still is not merged into the next page's text."""
    path = make_pdf(
        "guide.pdf",
        [[("h1", "Response guide"), ("h2", "for school resource officers")], [TEXT * 3]],
        outline=False,
    )
    doc = read_by(parse_file(path, opts))
    chunks = chunk_pages(doc.pages, SectionIndex(doc.headings), lambda t: len(t.split()), max_tokens=200)
    assert [(c.page_start, c.page_end, c.region) for c in chunks] == [(1, 1, FRONT), (2, 2, "body")]
    assert "Response guide" in chunks[0].text and "Response guide" not in chunks[1].text
