"""A PDF page's text and the runs it was printed in (text, printed size, font, baseline), by one of two extractors.

The seam between reading a PDF and recognising its layout (ingest/layout.py): an extractor gives, per physical page,
the page text (lines separated by newlines) and the runs of text in printing order, whose non-space characters are
exactly those of the page text. Two implementations:

- `pdfium`: PDFium's text page through pypdfium2. One C call returns the page text; one call per
  character names the text object that printed it (consecutive characters of one object form a run); a few calls per
  run give its font size, matrix, origin and font name. Several times cheaper than pypdf's content-stream
  interpreter in Python. A file PDFium cannot open (or whose page count it reads differently) falls back to pypdf.
- `pypdf` (the default, until PDFium's text matches its retrieval quality): pypdf's `extract_text` with a visitor
  that records every piece of text with its font, size and position.

pypdf still reads everything else (decryption, page labels, outline, metadata, images): ingest/pdf.py.
"""

from __future__ import annotations

import ctypes
import math
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from pypdf import PdfReader

from pactkb.ingest.layout import SUPERSCRIPT, TextRun

PDFIUM_HYPHEN = "\ufffe"  # PDFium's mark for a hyphen ending a line (the line break itself is dropped)
SAME_LINE_RISE = 0.5  # characters whose baselines differ by at most this share of the larger size share a line
SAME_LINE_GAP = 0.6  # ... when at most this share of it apart horizontally
HANGING_MARK_GAP = 3.0  # a note number alone at the start of a line opens the note up to this many ems to its right
_NOTE_NUMBER = re.compile(r"\d{1,3}|[*†‡]")
_NOTE_OPENERS = "“‘\"'(["  # ... whose text opens with a word, a quotation or a bracket (not '(¹)' or '⁵⁹.')
PARAGRAPH_GAP = 1.3  # a line break whose baseline drop exceeds this many times the page's line pitch ends a paragraph
MIN_PARAGRAPH_DROP = 1.5  # ... and exceeds this many ems (tightly set pages: the pitch alone is not a paragraph)
MAX_LINE_PITCH = 2.5  # drops (ems) above this are not line pitch (gaps around figures, tables, headings)
MIN_PITCH_SAMPLES = 4  # a page with fewer line breaks uses DEFAULT_LINE_PITCH
DEFAULT_LINE_PITCH = 1.2  # ems
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


@dataclass(frozen=True)
class _CFunctions:
    """The PDFium functions called per character or per run, re-declared to take and return plain addresses (ints):
    ctypes converts those several times faster than pypdfium2's typed pointers."""

    text_object: Any  # FPDFText_GetTextObject(text page, index) -> page object
    font_size: Any  # FPDFText_GetFontSize(text page, index) -> size before the matrix
    matrix: Any  # FPDFText_GetMatrix(text page, index, FS_MATRIX*)
    char_box: Any  # FPDFText_GetCharBox(text page, index, left*, right*, bottom*, top*)
    object_font: Any  # FPDFTextObj_GetFont(text object) -> font
    font_name: Any  # FPDFFont_GetBaseFontName(font, buffer, length) -> length


@lru_cache(maxsize=1)
def _c() -> _CFunctions:
    """The PDFium functions of _CFunctions, declared once per process."""
    import pypdfium2.raw as pdfium_c

    def declare(fn: Any, result: Any, *args: Any) -> Any:
        return ctypes.CFUNCTYPE(result, *args)(ctypes.cast(fn, ctypes.c_void_p).value or 0)

    ptr, i32, dbl = ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_double)
    return _CFunctions(
        text_object=declare(pdfium_c.FPDFText_GetTextObject, ptr, ptr, i32),
        font_size=declare(pdfium_c.FPDFText_GetFontSize, ctypes.c_double, ptr, i32),
        matrix=declare(pdfium_c.FPDFText_GetMatrix, i32, ptr, i32, ctypes.POINTER(pdfium_c.FS_MATRIX)),
        char_box=declare(pdfium_c.FPDFText_GetCharBox, i32, ptr, i32, dbl, dbl, dbl, dbl),
        object_font=declare(pdfium_c.FPDFTextObj_GetFont, ptr, ptr),
        font_name=declare(pdfium_c.FPDFFont_GetBaseFontName, ctypes.c_size_t, ptr, ctypes.c_char_p, ctypes.c_size_t),
    )


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


class _Chars:
    """Queries about single characters of one PDFium text page, with the ctypes out-parameters allocated once."""

    def __init__(self, textpage: Any) -> None:
        import pypdfium2.raw as pdfium_c

        self.c = _c()
        self.fonts: dict[int, str] = {}  # font handle -> base name (handles live as long as the page)
        self.page = ctypes.cast(textpage, ctypes.c_void_p).value
        self.matrix = pdfium_c.FS_MATRIX()
        self.matrix_ref = ctypes.byref(self.matrix)
        self.edges = [ctypes.c_double() for _ in range(4)]  # left, right, bottom, top
        self.edge_refs = [ctypes.byref(e) for e in self.edges]
        self.name = ctypes.create_string_buffer(256)

    def objects(self, n: int) -> list[int | None]:
        """The text object that printed each character (None for characters PDFium generated)."""
        get, page = self.c.text_object, self.page
        return [get(page, i) for i in range(n)]

    def font(self, obj: int) -> str:
        """The base font name of a text object (memoised per font)."""
        handle = self.c.object_font(obj) or 0
        name = self.fonts.get(handle)
        if name is None:
            if handle:
                self.c.font_name(handle, self.name, len(self.name))
            name = self.fonts[handle] = self.name.value.decode("latin-1") if handle else ""
        return name

    def style(self, i: int) -> tuple[float, float, int]:
        """Printed size (font size times the vertical scale of the character's matrix), baseline height and direction
        (degrees, rounded) of the character at index i."""
        m = self.matrix
        self.c.matrix(self.page, i, self.matrix_ref)
        size = self.c.font_size(self.page, i) * (math.hypot(m.b, m.d) or math.hypot(m.a, m.c) or 1.0)
        return size, m.f, round(math.degrees(math.atan2(m.b, m.a)))

    def geometry(self, i: int) -> tuple[float, float, float, float]:
        """Left and right edge, baseline height and printed size of the character at index i."""
        self.c.char_box(self.page, i, *self.edge_refs)
        left, right = self.edges[0].value, self.edges[1].value
        size, y, _ = self.style(i)
        return left, right, y, size


def _line_break(page: _Chars, chars: str, k: int) -> tuple[str, float | None]:
    """What PDFium's line break at index k stands for: nothing when the characters around it sit side by side on one
    line (a superscript note mark, a change of size: 'Bank (1),'), a space after a raised note number that starts a
    line and hangs left of its note (PDFium breaks there when the rise exceeds 3/4 of a character's width), else a
    newline; and, for a newline between two printed lines, how far the next baseline lies below this one in ems (None
    when it is not below: a new column)."""
    p, q = k - 1, k + 2
    while p > 0 and chars[p] == " ":
        p -= 1
    while q < len(chars) - 1 and chars[q] == " ":
        q += 1
    if p < 0 or q >= len(chars) or chars[p] in "\r\n" or chars[q] in "\r\n":
        return "\n", None
    p_left, p_right, p_y, p_size = page.geometry(p)
    q_left, _, q_y, q_size = page.geometry(q)
    em = max(p_size, q_size, 1.0)
    gap = q_left - p_right
    if (
        p_size <= SUPERSCRIPT * q_size
        and 0 < p_y - q_y <= SAME_LINE_RISE * em
        and 0 <= gap <= HANGING_MARK_GAP * em
        and _NOTE_NUMBER.fullmatch(chars[chars.rfind("\n", 0, p) + 1 : p + 1].strip())
        and (chars[q].isalnum() or chars[q] in _NOTE_OPENERS)
    ):
        return " ", None  # a raised note number hanging in the margin, then its note ('⁷    See paragraphs 37-41')
    if abs(q_y - p_y) > SAME_LINE_RISE * em or not -SAME_LINE_GAP * em <= gap <= SAME_LINE_GAP * em or q_left < p_left:
        drop = (p_y - q_y) / em
        return "\n", drop if drop > 0 else None
    return "", None  # the spaces PDFium saw around the break stay


def _paragraph_drops(drops: list[float | None]) -> set[int]:
    """Which line breaks start a new paragraph: the next baseline lies further below than the page's usual line
    pitch allows (PARAGRAPH_GAP times the median drop between lines, at least MIN_PARAGRAPH_DROP ems)."""
    steps = sorted(d for d in drops if d is not None and d <= MAX_LINE_PITCH)
    pitch = steps[len(steps) // 2] if len(steps) >= MIN_PITCH_SAMPLES else DEFAULT_LINE_PITCH
    limit = max(PARAGRAPH_GAP * pitch, MIN_PARAGRAPH_DROP)
    return {i for i, d in enumerate(drops) if d is not None and d > limit}


def _join_lines(page: _Chars, chars: str, inserts: dict[int, str]) -> str:
    """The page text with PDFium's line breaks between characters of one printed line removed (see _line_break), a
    blank line where the vertical gap between two lines says a paragraph ends (_paragraph_drops), and `inserts` put
    before their indices (a line break where the writing direction turns)."""
    out: list[str] = []
    drops: list[float | None] = []  # per kept line break: the drop to the next line in ems
    breaks: list[int] = []  # index in `out` of each kept line break
    at = 0
    for k in sorted({m.start() for m in re.finditer("\r\n", chars)} | inserts.keys()):
        if k < at:
            continue
        out.append(chars[at:k])
        if chars.startswith("\r\n", k):
            sep, drop = _line_break(page, chars, k)
            if sep:
                breaks.append(len(out))
                drops.append(drop)
            out.append(sep)
            at = k + 2
        else:
            out.append(inserts[k])
            at = k
    out.append(chars[at:])
    for i in _paragraph_drops(drops):
        out[breaks[i]] = "\n\n"
    return "".join(out)


def pdfium_page_text(textpage: Any) -> PageText:
    """A PDFium text page's text and runs: consecutive characters printed by one text object form a run (characters
    PDFium generated, such as spaces and line breaks, join the run before them)."""
    import pypdfium2.raw as pdfium_c

    n = pdfium_c.FPDFText_CountChars(textpage)
    if n <= 0:
        return PageText("", [])
    chars = _page_chars(textpage, n)
    page = _Chars(textpage)
    objects = page.objects(n)
    firsts: list[int] = []  # index of each run's first printed character
    current = None
    for i, obj in enumerate(objects):
        if obj and obj != current:
            firsts.append(i)
            current = obj
    runs: list[TextRun] = []
    inserts: dict[int, str] = {}  # a line break where the writing direction turns (a rotated running header)
    pieces: list[str] = []  # the text of the run being gathered
    style: tuple[float, str, float] | None = None  # its size, font and baseline
    direction = None
    for k, first in enumerate(firsts):
        piece = chars[0 if k == 0 else first : firsts[k + 1] if k + 1 < len(firsts) else n]
        if pieces and piece.isspace():
            pieces.append(piece)  # a printed space: no style needed
            continue
        size, y, angle = page.style(first)
        now = (size, page.font(objects[first] or 0), y)
        if direction is not None and angle != direction and chars[:first].rstrip(" ")[-1:] != "\n":
            inserts[first] = "\n"
        direction = angle
        if now != style and pieces and style is not None:  # objects of one style join one run
            runs.append(TextRun("".join(pieces).replace(PDFIUM_HYPHEN, "-"), *style))
            pieces = []
        pieces.append(piece)
        style = now
    if pieces and style is not None:
        runs.append(TextRun("".join(pieces).replace(PDFIUM_HYPHEN, "-"), *style))
    text = _join_lines(page, chars, inserts).replace(PDFIUM_HYPHEN, "-\n")
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
