"""OCR of scanned pages: the page rendered once, uncompressed, and read by Tesseract."""

from pactkb.ingest.ocr import _render_page, ocr_pdf_page
from pactkb.ingest.parse import parse_file
from tests.conftest import scanned_pdf


def test_a_scanned_page_is_rendered_to_an_uncompressed_greyscale_bitmap(tmp_path):
    pdf = scanned_pdf(tmp_path / "scan.pdf", ["Cash couriers at border"])
    out = tmp_path / "render"
    out.mkdir()
    bitmap = _render_page(pdf, 1, out)
    assert bitmap is not None and bitmap.suffix == ".pgm"
    header = bitmap.read_bytes()[:2]
    assert header == b"P5"  # binary greyscale, no compression to undo


def test_ocr_reads_the_words_of_a_scanned_page(tmp_path):
    pdf = scanned_pdf(tmp_path / "scan.pdf", ["Cash couriers at border", "crossings carry undeclared currency."])
    text = ocr_pdf_page(pdf, 1, "eng")
    assert "couriers" in text and "undeclared" in text
    doc = parse_file(pdf)
    assert doc.pages_ocr == 1 and "undeclared" in doc.pages[0].text
