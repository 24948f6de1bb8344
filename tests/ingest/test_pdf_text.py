"""Page-text extractors (PDFium, pypdf): the same pages and text, the runs layout needs, the setting, the fallback."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from pactkb.ingest.chunk import Chunker
from pactkb.ingest.layout import page_layout
from pactkb.ingest.parse import ParseOptions, parse_file
from pactkb.ingest.pdf import read_pdf
from pactkb.ingest.pdf_text import PageText, PdfiumText, PypdfText, pdfium_page_text, text_extractor
from pactkb.settings import Settings
from tests.conftest import content_pdf
from tests.ingest.conftest import read_by

LONG = (
    "Financial investigators trace the proceeds of organised crime through correspondent banking, trade-based "
    "money laundering and virtual asset service providers, and co-operate across borders with their partners. "
)


def pdfium_page(stream: bytes) -> PageText:
    """What PDFium's extractor reads from a one-page PDF with this content stream."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(content_pdf(stream))
    page = pdf[0]
    textpage = page.get_textpage()
    return pdfium_page_text(textpage.raw)


def pdfium_text(stream: bytes) -> str:
    """The page text PDFium's extractor reads from a one-page PDF with this content stream."""
    return pdfium_page(stream).text


def squashed(text: str) -> str:
    """Text with whitespace runs collapsed to single spaces."""
    return re.sub(r"\s+", " ", text).strip()


def test_both_extractors_read_the_same_pages_and_text(make_pdf):
    path = make_pdf(
        "guide.pdf",
        [
            [("h1", "1. Cash couriers"), LONG * 3, ("fn", "1 Europol, Cash couriers report, 2023.")],
            [("h2", "1.1 Virtual assets"), LONG * 2, "Čćšđž – Кириличен текст – Shqip: ë ç"],
            ["The last page has one short paragraph."],
        ],
    )
    by = {x: read_pdf(path, x) for x in ("pdfium", "pypdf")}
    assert [r.extractor for r in by.values()] == ["pdfium", "pypdf"]
    assert len(by["pdfium"].texts) == len(by["pypdf"].texts) == 3
    for a, b in zip(by["pdfium"].texts, by["pypdf"].texts, strict=True):
        assert squashed(a) == squashed(b)
    assert all(layout is not None for r in by.values() for layout in r.layouts)
    assert by["pdfium"].display_title == by["pypdf"].display_title


def test_pdfium_runs_carry_printed_size_baseline_and_font():
    stream = (
        b"q 0.5 0 0 0.5 0 0 cm BT /F1 24 Tf 144 1400 Td (Scaled heading) Tj ET Q "
        b"BT /F1 12 Tf 72 650 Td (A line about co-) Tj 0 -14 Td (operation between agencies.) Tj ET "
        b"BT /F1 5 Tf 2 0 0 2 72 500 Tm (Ten point by matrix) Tj ET"
    )
    page = pdfium_page(stream)
    assert page.text.split("\n") == [
        "Scaled heading",
        "",  # 4 ems between the baselines: a paragraph ends
        "A line about co-",
        "operation between agencies.",
        "",
        "Ten point by matrix",
    ]
    styles = [(squashed(r.text), round(r.size, 2), round(r.y), r.font) for r in page.runs]
    assert styles == [
        ("Scaled heading", 12.0, 700, "Helvetica"),  # 24 pt under a 0.5 scale
        ("A line about co-", 12.0, 650, "Helvetica"),
        ("operation between agencies.", 12.0, 636, "Helvetica"),
        ("Ten point by matrix", 10.0, 500, "Helvetica"),  # 5 pt under a text matrix of 2
    ]
    layout = page_layout(page.text, page.runs)
    assert layout is not None and [s.size for s in layout.lines if s] == [12.0, 12.0, 12.0, 10.0]


def test_the_setting_chooses_the_extractor():
    assert ParseOptions.from_settings(Settings()).pdf_text == "pypdf"
    assert ParseOptions.from_settings(Settings(pdf_text="pdfium")).pdf_text == "pdfium"
    assert isinstance(text_extractor("pdfium"), PdfiumText) and isinstance(text_extractor("pypdf"), PypdfText)
    with pytest.raises(ValidationError):
        Settings(pdf_text="pdfminer")
    with pytest.raises(ValueError, match="pdfminer"):
        text_extractor("pdfminer")


def test_a_file_pdfium_cannot_open_is_read_by_pypdf_and_says_so(make_pdf, monkeypatch):
    import pypdfium2 as pdfium

    path = make_pdf("refused.pdf", [["suspicious transaction reports"]])

    def refuse(*args: object, **kwargs: object) -> None:
        raise pdfium.PdfiumError("Failed to load document (PDFium: Incorrect password error).")

    monkeypatch.setattr(pdfium, "PdfDocument", refuse)
    doc = parse_file(path, ParseOptions(pdf_text="pdfium"))
    assert "suspicious transaction reports" in doc.pages[0].text
    assert doc.warnings == [
        "page text read with pypdf: PDFium cannot open it (Failed to load document (PDFium: Incorrect password error).)"
    ]


def test_a_raised_note_mark_stays_on_its_line_and_a_rotated_header_gets_its_own():
    mark = b"/F1 6 Tf 4 Ts (1) Tj /F1 10 Tf 0 Ts"  # a note mark, smaller and raised
    raised = b"BT /F1 10 Tf 72 700 Td (Opinion of the Central Bank \\() Tj " + mark + b" (\\), adopted) Tj ET"
    assert pdfium_text(raised).split("\n") == ["Opinion of the Central Bank (1), adopted"]
    rotated = b"BT /F1 12 Tf 500 20 Td (4) Tj ET BT /F1 6 Tf 0 1 -1 0 520 60 Tm (RUNNING HEADER OF THE REPORT) Tj ET"
    assert pdfium_text(rotated).split("\n") == ["4", "RUNNING HEADER OF THE REPORT"]
    lines = b"BT /F1 10 Tf 72 700 Td (First line of body text) Tj 0 -12 Td (Second line of body text) Tj ET"
    assert pdfium_text(lines).split("\n") == ["First line of body text", "Second line of body text"]


PARAGRAPHS = [
    "Correspondent banking is the provision of banking services by one bank to another bank. " * 3,
    "Respondent institutions may use the account to offer services to their own customers abroad. " * 4,
    "Nested relationships need particular attention from the correspondent institution's compliance team. " * 2,
]


def test_pdfium_puts_a_blank_line_between_paragraphs_and_none_between_their_lines(make_pdf):
    path = make_pdf("paragraphs.pdf", [PARAGRAPHS], hyphenate=False, outline=False)
    doc = read_by(parse_file(path, ParseOptions(pdf_text="pdfium")))
    parts = doc.pages[0].text.split("\n\n")
    assert [squashed(p) for p in parts] == [squashed(p) for p in PARAGRAPHS]
    assert all(p.count("\n") >= 1 for p in parts)  # each paragraph spans several printed lines, kept together
    assert doc.pdf_text == "pdfium"
    chunks = Chunker(lambda t: len(t.split()), max_tokens=60, target=60, overlap=0)(doc)
    assert all(squashed(c.text) in [squashed(p) for p in PARAGRAPHS] for c in chunks)  # chunks end where paragraphs do


def test_a_paragraph_break_is_a_gap_larger_than_the_pages_own_line_pitch():
    def lines(*drops: int) -> bytes:
        moves = b" ".join(b"0 -%d Td (Line %d of the page) Tj" % (d, i) for i, d in enumerate(drops, start=2))
        return b"BT /F1 12 Tf 72 760 Td (Line 1 of the page) Tj " + moves + b" ET"

    double_spaced = pdfium_text(lines(24, 24, 36, 24, 24, 24))  # 2 ems between lines, 3 between paragraphs
    assert double_spaced.split("\n\n") == [
        "Line 1 of the page\nLine 2 of the page\nLine 3 of the page",
        "Line 4 of the page\nLine 5 of the page\nLine 6 of the page\nLine 7 of the page",
    ]
    assert "\n\n" not in pdfium_text(lines(14, 14, 15, 14, 14))  # 15 points is still the usual pitch of 14
