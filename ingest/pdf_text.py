"""A PDF page's text and the runs it was printed in (text, printed size, font, baseline), by one of two extractors.

The seam between reading a PDF and recognising its layout (ingest/layout.py): an extractor gives, per physical page,
the page text (lines separated by newlines) and the runs of text in printing order, whose non-space characters are
exactly those of the page text. Two implementations:

- `pdfium` (the default): PDFium's text page through pypdfium2. One C call returns the page text; one call per
  character names the text object that printed it (consecutive characters of one object form a run); a few calls per
  run give its font size, matrix, origin and font name. Several times cheaper than pypdf's content-stream
  interpreter in Python. A file PDFium cannot open (or whose page count it reads differently) falls back to pypdf.
- `pypdf`: pypdf's `extract_text` with a visitor that records every piece of text with its font, size and position.

pypdf still reads everything else (decryption, page labels, outline, metadata, images): ingest/pdf.py.
"""

from __future__ import annotations

import ctypes
import math
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from pypdf import PdfReader

from pactkb.ingest.layout import TextRun

PDFIUM_HYPHEN = "\ufffe"  # PDFium's mark for a hyphen ending a line (the line break itself is dropped)
_PDFIUM_LOCK = threading.Lock()  # PDFium is not thread-safe: one document at a time per process


@dataclass
class PageText:
    """One page as an extractor read it: the text and the runs it was printed in."""

    text: str
    runs: list[TextRun]


class PageTextExtractor(Protocol):
    """Reads the text and printing runs of every page of an opened PDF (None for a page that cannot be read)."""

    name: str

    def pages(self, path: Path, reader: PdfReader) -> list[PageText | None]:
        """Each physical page's text and runs, in order; raise ExtractorUnavailable to hand the file to pypdf."""
        ...


class ExtractorUnavailable(Exception):
    """This extractor cannot read this file (the message says why); another one should."""


def pypdf_page_text(page: Any) -> PageText:
    """Extract a pypdf page's text and every run of text it was printed in (one pass over the content stream)."""
    runs: list[TextRun] = []

    def visit(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        if not text.strip():
            return  # no printed character
        scale = (abs(tm[3]) or abs(tm[0]) or 1.0) * (abs(cm[3]) or abs(cm[0]) or 1.0)
        y = float(tm[5]) * (cm[3] or 1.0) + float(cm[5])
        try:
            name = str(font.get("/BaseFont", "")) if font else ""
        except Exception:  # noqa: BLE001 - a broken font dictionary only loses the weight
            name = ""
        runs.append(TextRun(text, float(size) * scale, name, y))

    return PageText(page.extract_text(visitor_text=visit) or "", runs)


class PypdfText:
    """Page text by pypdf's extract_text and its text visitor."""

    name = "pypdf"

    def pages(self, path: Path, reader: PdfReader) -> list[PageText | None]:
        """Each page's text and runs; a page whose content stream is broken is None."""
        out: list[PageText | None] = []
        for page in reader.pages:
            try:
                out.append(pypdf_page_text(page))
            except Exception:  # noqa: BLE001 - a broken content stream loses one page, not the file
                out.append(None)
        return out


@lru_cache(maxsize=1)
def _text_object() -> Any:
    """FPDFText_GetTextObject returning the object's address as a plain int (ctypes pointers cost more per call)."""
    import pypdfium2.raw as pdfium_c

    address = ctypes.cast(pdfium_c.FPDFText_GetTextObject, ctypes.c_void_p).value or 0
    return ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int)(address)


def _page_chars(textpage: Any, n: int) -> str:
    """The text page's characters, one per character index (PDFium's line-end hyphen as PDFIUM_HYPHEN)."""
    import pypdfium2.raw as pdfium_c

    buffer = (ctypes.c_ushort * (n + 1))()
    got = pdfium_c.FPDFText_GetText(textpage, 0, n, buffer)
    text = bytes(memoryview(buffer).cast("B")[: max(0, got - 1) * 2]).decode("utf-16-le", errors="replace")
    if len(text) == n:
        return text
    # characters outside the BMP (surrogate pairs) or left out of the text: ask per character
    codes = [pdfium_c.FPDFText_GetUnicode(textpage, i) for i in range(n)]
    return "".join(
        PDFIUM_HYPHEN if c == 2 else "\ufffd" if 0xD800 <= c <= 0xDFFF or c > 0x10FFFF else chr(c) for c in codes
    )


def _run_style(textpage: Any, i: int) -> tuple[float, str, float]:
    """Printed size (font size times the vertical scale of the character's matrix), font name and baseline height
    of the character at index i."""
    import pypdfium2.raw as pdfium_c

    matrix = pdfium_c.FS_MATRIX()
    pdfium_c.FPDFText_GetMatrix(textpage, i, ctypes.byref(matrix))
    scale = math.hypot(matrix.b, matrix.d) or math.hypot(matrix.a, matrix.c) or 1.0
    size = pdfium_c.FPDFText_GetFontSize(textpage, i) * scale
    x, y = ctypes.c_double(), ctypes.c_double()
    pdfium_c.FPDFText_GetCharOrigin(textpage, i, ctypes.byref(x), ctypes.byref(y))
    name = ctypes.create_string_buffer(128)
    pdfium_c.FPDFText_GetFontInfo(textpage, i, name, 128, None)
    return size, name.value.decode("latin-1"), y.value


def pdfium_page_text(textpage: Any) -> PageText:
    """A PDFium text page's text and runs: consecutive characters printed by one text object form a run (characters
    PDFium generated, such as spaces and line breaks, join the run before them)."""
    import pypdfium2.raw as pdfium_c

    n = pdfium_c.FPDFText_CountChars(textpage)
    if n <= 0:
        return PageText("", [])
    chars = _page_chars(textpage, n)
    get, page = _text_object(), ctypes.cast(textpage, ctypes.c_void_p).value
    firsts: list[int] = []  # index of each run's first printed character
    current = None
    for i, obj in enumerate([get(page, i) for i in range(n)]):
        if obj and obj != current:
            firsts.append(i)
            current = obj
    runs: list[TextRun] = []
    for k, first in enumerate(firsts):
        start = 0 if k == 0 else first
        end = firsts[k + 1] if k + 1 < len(firsts) else n
        size, font, y = _run_style(textpage, first)
        piece = chars[start:end].replace(PDFIUM_HYPHEN, "-")
        last = runs[-1] if runs else None
        if last is not None and (last.size, last.font, last.y) == (size, font, y):
            runs[-1] = TextRun(last.text + piece, size, font, y)  # one style split over several objects
        else:
            runs.append(TextRun(piece, size, font, y))
    text = chars.replace("\r\n", "\n").replace(PDFIUM_HYPHEN, "-\n")
    return PageText(text, runs)


class PdfiumText:
    """Page text by PDFium (pypdfium2): its text page's characters, grouped into runs by the object printing them."""

    name = "pdfium"

    def pages(self, path: Path, reader: PdfReader) -> list[PageText | None]:
        """Each page's text and runs; raise ExtractorUnavailable when PDFium cannot open the file or sees another
        number of pages than pypdf."""
        import pypdfium2 as pdfium

        with _PDFIUM_LOCK:
            try:
                pdf = pdfium.PdfDocument(str(path))
            except Exception as exc:
                raise ExtractorUnavailable(f"PDFium cannot open it ({exc})") from exc
            try:
                if len(pdf) != len(reader.pages):
                    raise ExtractorUnavailable(f"PDFium reads {len(pdf)} pages, pypdf {len(reader.pages)}")
                out: list[PageText | None] = []
                for i in range(len(pdf)):
                    try:
                        page = pdf[i]
                        textpage = page.get_textpage()
                        try:
                            out.append(pdfium_page_text(textpage.raw))
                        finally:
                            textpage.close()
                            page.close()
                    except Exception:  # noqa: BLE001 - a page PDFium cannot read loses that page, not the file
                        out.append(None)
                return out
            finally:
                pdf.close()


EXTRACTORS: dict[str, type[PdfiumText] | type[PypdfText]] = {"pdfium": PdfiumText, "pypdf": PypdfText}


def text_extractor(name: str) -> PageTextExtractor:
    """The page-text extractor a setting names (PACTKB_PDF_TEXT: pdfium or pypdf)."""
    try:
        return EXTRACTORS[name]()
    except KeyError:
        raise ValueError(f"unknown PDF text extractor {name!r} (choose from {', '.join(EXTRACTORS)})") from None
