"""Page layout from the PDF's own typography: body vs footnote lines, heading lines, superscript marks.

The page-text extractor (ingest/pdf_text.py: PDFium or pypdf) gives a page's text with the runs it was printed in,
each with its font, size and position; the runs' text, with whitespace removed, is exactly the page text with
whitespace removed, so each non-space character of a page's text can be given the size, weight and height it was
printed with. From that:

- the document's body size (the size most characters are set in);
- the footnote block at the foot of a page (smaller type below the body, starting with a note number), which is
  cut out of the page text so it is never glued into the sentence it interrupts;
- which lines are set like headings (larger or bold) and which like body text, so numbered body paragraphs
  ("17. On behalf of the Committee…") do not become headings;
- superscript note marks ("threat4", "months.20 In") removed from the body text.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from pactkb.ingest.clean import is_page_number, normalize_unicode

BOLD_FONT = re.compile(r"bold|black|heavy|semibold|demi", re.IGNORECASE)


def _note_mark(number_end: str) -> re.Pattern[str]:
    """A line opening with a note number or symbol ('12 ', '*', '[3]'); `number_end` follows the number's digits."""
    return re.compile(r"^\s*(?:\d{1,3}" + number_end + r"|[*†‡§¶]|\[\d{1,3}\])[\s\u2003.)]*(?=\S)")


NOTE_MARK = _note_mark(r"(?!\d)")  # not the first digits of a year ('1995, which requested…', '2024.')
PYPDF_NOTE_MARK = _note_mark("")  # pypdf's text as the default store was built (a year's digits count: see CHANGELOG)
_MARK_LINE = re.compile(r"^\s*(?:\d{1,3}|[*†‡])(?:\s*,\s*\d{1,3})*\s*$")
SMALL = 0.88  # a line set at most this share of the body size is small type (notes, captions)
NOTE_SIZE = 0.92  # ... or this share, where a line this size opens with a raised note mark (FATF: 0.9; PDFium's sizes)
SUPERSCRIPT = 0.8  # characters at most this share of their line's size are superscripts
HEADING_SIZE = 1.12  # a line at least this share of the body size is set like a heading
MAX_HEADING_WORDS = 14


@dataclass
class LineStyle:
    """How one line of extracted text was printed: its dominant size, boldness, height, per-character sizes."""

    size: float
    bold: bool
    y: float
    sizes: list[float] = field(default_factory=list)  # one per non-space character, in order


@dataclass
class PageLayout:
    """The typography of one page's extracted text, line by line (None where nothing was printed)."""

    lines: list[LineStyle | None]


@dataclass(frozen=True)
class TextRun:
    """One piece of text as the extractor printed it: its text, printed size (font size times the text and page
    scaling), font name and baseline height."""

    text: str
    size: float
    font: str
    y: float


def _squash_len(text: str) -> int:
    """Number of non-space characters (str.split() splits at exactly the characters str.isspace() accepts)."""
    return len("".join(text.split()))


def page_layout(text: str, runs: list[TextRun]) -> PageLayout | None:
    """The style of each line of a page's text, from the runs it was printed in (None if they cannot be aligned)."""
    chars: list[tuple[float, bool, float]] = []
    for run in runs:
        n = _squash_len(run.text)
        if n:
            chars.extend([(round(run.size, 2), bool(BOLD_FONT.search(run.font)), run.y)] * n)
    if _squash_len(text) != len(chars):
        return None
    lines: list[LineStyle | None] = []
    at = 0
    for line in text.split("\n"):
        n = _squash_len(line)
        if not n:
            lines.append(None)
            continue
        span = chars[at : at + n]
        at += n
        sizes = [c[0] for c in span]
        dominant = Counter(sizes).most_common(1)[0][0]
        bold = sum(c[1] for c in span) * 2 > n
        ys = [c[2] for c in span if c[0] == dominant]
        lines.append(LineStyle(size=dominant, bold=bold, y=min(ys), sizes=sizes))
    return PageLayout(lines=lines)


def body_size(layouts: list[PageLayout | None]) -> float | None:
    """The size most characters of the document are set in (None without layout)."""
    counts: Counter[float] = Counter()
    for layout in layouts:
        for line in layout.lines if layout else []:
            if line:
                counts[round(line.size * 2) / 2] += len(line.sizes)
    return counts.most_common(1)[0][0] if counts else None


def strip_superscripts(line: str, style: LineStyle) -> str:
    """Remove superscript note numbers glued to a word or punctuation ('threat4', 'months.20 In')."""
    if not style.sizes or min(style.sizes) > SUPERSCRIPT * style.size:
        return line
    out: list[str] = []
    k = 0  # index among non-space characters
    in_mark = False
    for ch in line:
        if ch.isspace():
            out.append(ch)
            in_mark = False
            continue
        small = style.sizes[k] <= SUPERSCRIPT * style.size
        k += 1
        prev = out[-1] if out else ""
        if small and ch.isdigit() and (in_mark or (prev and not prev.isspace() and not prev.isdigit())):
            in_mark = True  # a note mark right after a word or punctuation
            continue
        in_mark = False
        out.append(ch)
    return "".join(out)


@dataclass
class PageRegions:
    """A page's text split by role: body text, its footnotes, and which body lines are set like headings."""

    body: str
    notes: str = ""
    heading_lines: dict[str, float] = field(default_factory=dict)  # squashed line -> its size
    body_lines: set[str] = field(default_factory=set)


def squash_key(line: str) -> str:
    """A line reduced to lower-case non-space characters, for matching it after cleaning."""
    return re.sub(r"\s+", "", normalize_unicode(line)).lower()


def _is_small(style: LineStyle | None, small: float) -> bool:
    """Line set in small type (at most `small` points)."""
    return style is not None and style.size <= small


def _opens_with_raised_mark(line: str, style: LineStyle) -> bool:
    """A line opening with a note number set smaller than the rest of it ('¹³ FATF, 2014: p. 8.')."""
    mark = NOTE_MARK.match(line)
    digits = sum(ch.isdigit() for ch in mark.group(0)) if mark else 0
    return bool(digits) and max(style.sizes[:digits]) <= SUPERSCRIPT * style.size


def small_type(lines: list[str], styles: list[LineStyle | None], body: float) -> float:
    """The largest size a page's small type may have: SMALL of the body, or, where a footnote opens with a raised
    mark in type up to NOTE_SIZE of the body, that type's size."""
    limit = SMALL * body
    for line, style in zip(lines, styles, strict=False):
        if style and limit < style.size <= NOTE_SIZE * body and _opens_with_raised_mark(line, style):
            limit = style.size
    return limit


def _is_footer(line: str, printed: bool = False) -> bool:
    """A page number or a document number printed under the notes ('11', 'Page 3 of 9', '25-12039'); with `printed`
    (PDFium's text) not a word closing a sentence or a bracket: a note's last line ('2016).', 'R.3.')."""
    words = line.split()
    if printed and line.rstrip().endswith((".", ")")) and not is_page_number(line):
        return False
    return is_page_number(line) or (
        len(words) == 1 and any(c.isdigit() for c in line) and not any(c.islower() for c in line)
    )


def footnote_start(lines: list[str], styles: list[LineStyle | None], body: float, printed: bool = False) -> int | None:
    """Index of the first line of the footnote block at the foot of the page, or None. With `printed` sizes (PDFium's),
    notes a little smaller than the body that open with a raised mark count as small type (small_type), a note's last
    line is not taken for a page number (_is_footer) and a year does not open a note (NOTE_MARK); pypdf's text keeps
    the rules the default store was built with."""
    block: list[int] = []
    small = small_type(lines, styles, body) if printed else SMALL * body
    for i in range(len(lines) - 1, -1, -1):
        if not lines[i].strip() or (
            not block
            and (_is_footer(lines[i], printed) or not _is_small(styles[i], small))
            and len(lines[i].split()) <= 3
        ):
            continue
        if not _is_small(styles[i], small):
            break
        block.append(i)
    if not block:
        return None
    block.reverse()
    body_ys = [
        s.y for s, ln in zip(styles, lines, strict=False) if s and len(ln.split()) >= 4 and not _is_small(s, small)
    ]
    lowest_body = min(body_ys) if body_ys else float("inf")
    for i in block:
        style = styles[i]
        if (NOTE_MARK if printed else PYPDF_NOTE_MARK).match(lines[i]) and style is not None and style.y < lowest_body:
            return i
    return None


def split_page(text: str, layout: PageLayout | None, body: float | None, printed: bool = False) -> PageRegions:
    """Cut the footnote block out of a page, strip superscript marks, and classify line typography."""
    lines = text.split("\n")
    if layout is None or body is None or len(layout.lines) != len(lines):
        return PageRegions(body=text)
    styles = layout.lines
    start = footnote_start(lines, styles, body, printed)
    cut = len(lines) if start is None else start
    body_out: list[str] = []
    regions = PageRegions(body="")
    for line, style in zip(lines[:cut], styles[:cut], strict=False):
        if style is None:
            body_out.append(line)
            continue
        if style.size <= SUPERSCRIPT * body and _MARK_LINE.match(line):
            continue  # a note mark the extractor put on a line of its own (it is raised above the body line)
        line = strip_superscripts(line, style)
        body_out.append(line)
        key = squash_key(line)
        if not key:
            continue
        words = len(line.split())
        if (
            style.size >= HEADING_SIZE * body or (style.bold and style.size >= 0.95 * body)
        ) and words <= MAX_HEADING_WORDS:
            regions.heading_lines[key] = style.size + (0.5 if style.bold else 0.0)
        elif abs(style.size - body) <= 0.08 * body and not style.bold:
            regions.body_lines.add(key)
    regions.body = "\n".join(body_out)
    if start is not None:
        notes = [ln for ln in lines[start:] if ln.strip()]
        while notes and _is_footer(notes[-1], printed):
            notes.pop()
        regions.notes = "\n".join(notes)
    return regions
