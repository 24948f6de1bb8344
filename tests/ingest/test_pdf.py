"""Reading PDFs: page text on the right physical page, labels, outline, encryption, bad files (with each page-text
extractor)."""

from pathlib import Path

import pytest
from pypdf import PageObject, PdfReader, PdfWriter

from pactkb.ingest.parse import ParseOptions, parse_file
from pactkb.ingest.pdf import read_pdf
from pactkb.ingest.types import IngestError
from pactkb.settings import Settings
from tests.conftest import SHARED_PDF
from tests.ingest.conftest import read_by


def _encrypt(src: Path, dst: Path, user_password: str) -> Path:
    writer = PdfWriter(clone_from=PdfReader(src))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-256")
    with open(dst, "wb") as fh:
        writer.write(fh)
    return dst


def test_text_lands_on_its_physical_page(make_pdf, pdf_text: str):
    path = make_pdf("three.pdf", [["alpha page one"], ["bravo page two"], ["charlie page three"]])
    raw = read_pdf(path, pdf_text)
    assert raw.extractor == pdf_text and not raw.warnings
    assert len(raw.texts) == 3
    assert "bravo" in raw.texts[1] and "bravo" not in raw.texts[0] + raw.texts[2]


def test_one_page_document_cites_page_one(make_pdf, opts: ParseOptions):
    doc = read_by(parse_file(make_pdf("one.pdf", [["a single page about cash couriers"]]), opts))
    assert [p.number for p in doc.pages] == [1]


def test_printed_page_labels_are_recorded(make_pdf):
    path = make_pdf(
        "labels.pdf",
        [["cover"], ["contents"], ["chapter one"], ["chapter two"]],
        labels=[(0, "ROMAN_LOWER", 1), (2, "ARABIC", 1)],
    )
    doc = parse_file(path)
    assert [p.label for p in doc.pages] == ["i", "ii", "1", "2"]


def test_no_labels_when_pdf_defines_none(make_pdf):
    doc = parse_file(make_pdf("nolabels.pdf", [["a"], ["b"]]))
    assert all(p.label is None for p in doc.pages)


def test_outline_becomes_headings(make_pdf, opts: ParseOptions):
    path = make_pdf(
        "outline.pdf",
        [[("h1", "1. Cash couriers"), "text one"], [("h1", "2. Virtual assets"), ("h2", "2.1 Wallets"), "text two"]],
    )
    doc = read_by(parse_file(path, opts))
    assert [(h.level, h.title, h.page) for h in doc.headings] == [
        (1, "1. Cash couriers", 1),
        (1, "2. Virtual assets", 2),
        (2, "2.1 Wallets", 2),
    ]


def test_encrypted_with_empty_user_password_is_read(make_pdf, tmp_path, opts: ParseOptions):
    src = make_pdf("plain.pdf", [["secret financing typology text"]])
    enc = _encrypt(src, tmp_path / "enc.pdf", "")
    doc = read_by(parse_file(enc, opts))
    assert "financing typology" in doc.pages[0].text


def test_password_protected_pdf_is_a_clear_error(make_pdf, tmp_path, opts: ParseOptions):
    src = make_pdf("plain2.pdf", [["text"]])
    enc = _encrypt(src, tmp_path / "locked.pdf", "hunter2")
    with pytest.raises(IngestError, match="password"):
        parse_file(enc, opts)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"This is a Word document, renamed.\n" * 20, "not a PDF"),
        (b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog", "corrupt"),
        (b"%PDF-1.4\n" + bytes(range(256)) * 40, "corrupt"),
    ],
    ids=["zero-byte", "not-a-pdf", "truncated", "garbage"],
)
def test_bad_files_raise_one_line_reasons(tmp_path, content, reason, opts: ParseOptions):
    path = tmp_path / "bad.pdf"
    path.write_bytes(content)
    with pytest.raises(IngestError) as err:
        parse_file(path, opts)
    assert reason.lower() in str(err.value).lower()
    assert "\n" not in str(err.value)


def test_truncated_real_pdf_fails_cleanly(make_pdf, tmp_path, opts: ParseOptions):
    data = make_pdf("full.pdf", [["some text"] * 3] * 3).read_bytes()
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(data[: len(data) // 3])
    try:
        doc = parse_file(cut, opts)  # pypdf may recover part of it: then pages must still be consistent
        assert all(p.number == i + 1 for i, p in enumerate(doc.pages))
    except IngestError as exc:
        assert str(exc)


def test_shared_aes_encrypted_pdf_opens(opts: ParseOptions):
    doc = read_by(parse_file(SHARED_PDF / "fca-final-notice-monzo-bank-2025-encrypted.pdf", opts))
    assert len(doc.pages) == 44 and "Monzo" in " ".join(p.text for p in doc.pages[:2])


def test_pypdf_reads_each_page_once_and_the_cover_title_comes_from_that_pass(make_pdf, monkeypatch):
    path = make_pdf(
        "titled.pdf",
        [[("h1", "Financial Investigations Handbook"), "Body text about asset recovery."], ["page two text"]],
    )
    calls: list[int] = []
    extract_text = PageObject.extract_text

    def counted(self: PageObject, *args: object, **kwargs: object) -> str:
        calls.append(id(self))
        return extract_text(self, *args, **kwargs)

    monkeypatch.setattr(PageObject, "extract_text", counted)
    raw = read_pdf(path, "pypdf")
    assert len(calls) == 2 and len(set(calls)) == 2
    assert raw.display_title == "Financial Investigations Handbook"
    assert raw.layouts[0] is not None and raw.layouts[0].lines[0] is not None


def test_pdfium_reads_no_page_with_pypdf_and_finds_the_cover_title(make_pdf, monkeypatch):
    path = make_pdf(
        "titled.pdf",
        [[("h1", "Financial Investigations Handbook"), "Body text about asset recovery."], ["page two text"]],
    )

    def refuse(self: PageObject, *args: object, **kwargs: object) -> str:
        raise AssertionError("pypdf extract_text called on the PDFium path")

    monkeypatch.setattr(PageObject, "extract_text", refuse)
    raw = read_pdf(path, "pdfium")
    assert raw.extractor == "pdfium" and "asset recovery" in raw.texts[0]
    assert raw.display_title == "Financial Investigations Handbook"
    assert raw.layouts[0] is not None and raw.layouts[0].lines[0] is not None


def test_running_headers_alternating_left_and_right_are_not_page_text(make_pdf, pdf_text: str, monkeypatch):
    # each header heads 9 of 24 pages (cover and chapter openers have none): under the all-pages threshold
    topics = ["cash couriers", "mixers", "privacy coins", "peel chains", "mule accounts", "chargebacks"]
    body = [f"Indicator {i}: transfers through {topics[i % 6]} were traced in case {i * 7}." for i in range(24)]
    path = make_pdf(
        "redflags.pdf",
        [[text] for text in body],
        header="Virtual Assets Red Flag Indicators",
        even_header="FATF Report 2020",
        headerless=(0, 1, 6, 7, 14, 15),
    )
    monkeypatch.setenv("PACTKB_PDF_TEXT", pdf_text)
    monkeypatch.setenv("PACTKB_RUNNING_HEADERS_BY_PARITY", "true")
    doc = read_by(parse_file(path, ParseOptions.from_settings(Settings())))
    assert [p.text for p in doc.pages] == body
    default = read_by(parse_file(path, ParseOptions(pdf_text=pdf_text)))  # opt-in: off by default, as before
    assert sum("FATF Report" in p.text for p in default.pages) == 9
