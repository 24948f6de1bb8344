"""OCR of scanned pages: the page rendered once, uncompressed, and read by Tesseract."""

import os
import subprocess

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


def test_ocr_of_the_bitmap_reads_as_tesseract_reads_the_same_page_as_png(tmp_path, monkeypatch):
    pdf = scanned_pdf(tmp_path / "scan.pdf", ["Suspicious transaction reports", "filed by obliged entities."])
    subprocess.run(
        ["pdftoppm", "-r", "300", "-gray", "-png", "-singlefile", str(pdf), str(tmp_path / "ref")], check=True
    )
    png = subprocess.run(
        ["tesseract", str(tmp_path / "ref.png"), "stdout", "-l", "eng", "--psm", "3"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "OMP_THREAD_LIMIT": "1"},
    ).stdout
    calls: list[list[str]] = []
    run = subprocess.run

    def recorded(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        calls.append([str(a) for a in args])
        return run(args, **kwargs)  # type: ignore[call-overload, no-any-return]

    monkeypatch.setattr(subprocess, "run", recorded)
    assert ocr_pdf_page(pdf, 1, "eng") == png
    [tesseract] = [c for c in calls if c[0].endswith("tesseract")]
    assert tesseract[tesseract.index("--dpi") + 1] == "300"  # a PGM does not record its resolution: say it
