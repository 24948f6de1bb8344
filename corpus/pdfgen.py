"""Build small, realistic PDFs with known text on known pages (sample corpus and test fixtures).

Needs reportlab (a dev dependency) and a Unicode TrueType font (DejaVu Sans, Debian package
fonts-dejavu-core) so that č ć š ž đ and Cyrillic render as real text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/local/share/fonts/DejaVuSans.ttf",
)
PAGE_W, PAGE_H = 595.0, 842.0  # A4 in points
MARGIN = 64.0
LINE = 15.0


@dataclass
class PageSpec:
    """One page as blocks in reading order: ("h1"|"h2"|"h3", title), ("p", paragraph text), ("fn", footnote text:
    set small at the foot of the page, in order) or ("toc", "entry title|page": a contents line with dot leaders).
    In titles and paragraphs, "^N" prints N as a superscript note mark ("the threat^4")."""

    blocks: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class DocSpec:
    """A whole document."""

    title: str
    pages: list[PageSpec]
    author: str | None = None
    header: str | None = None
    even_header: str | None = None  # the header of the 2nd, 4th, ... page when headers alternate left/right
    headerless: tuple[int, ...] = ()  # 0-based pages printed without a header (cover, chapter openers)
    footer_numbers: bool = True
    outline: bool = True
    labels: list[tuple[int, str, int]] = field(default_factory=list)  # (0-based page, style, start)
    metadata_title: bool = True
    hyphenate: bool = True
    font_size: float = 10.5
    note_size: float = 7.5  # footnotes' type size (FATF sets them at 0.9 of the body)
    note_indent: float = 0.0  # hanging note numbers: the text this far right of the number (FATF 2021: 12 pt)


def find_font() -> str:
    """Path of a Unicode TrueType font, or raise with the package to install."""
    for path in FONT_CANDIDATES:
        if Path(path).exists():
            return path
    raise RuntimeError("DejaVu Sans not found: run `make system-deps` (or apt-get install fonts-dejavu-core)")


def _register() -> str:
    """Register the Unicode font with reportlab once; returns its name."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "DejaVu" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVu", find_font()))
    return "DejaVu"


def wrap(text: str, font: str, size: float, width: float, hyphenate: bool) -> list[str]:
    """Greedy word wrap; long words that do not fit are hyphenated across the line break."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines: list[str] = []
    cur = ""
    for word in text.split():
        trial = f"{cur} {word}".strip()
        if stringWidth(trial, font, size) <= width:
            cur = trial
            continue
        if hyphenate and len(word) >= 9 and word.isalpha():
            for cut in range(len(word) - 3, 3, -1):
                head = f"{cur} {word[:cut]}-".strip()
                if stringWidth(head, font, size) <= width:
                    lines.append(head)
                    cur = word[cut:]
                    break
            else:
                lines.append(cur)
                cur = word
            continue
        if cur:
            lines.append(cur)
        cur = word
    if cur:
        lines.append(cur)
    return lines


SUPERSCRIPT = re.compile(r"\^(\d{1,3})")


def draw_marked(c: Any, font: str, size: float, x: float, y: float, text: str) -> None:
    """Draw a line in which ^N marks are set as raised superscripts at 60% of the size."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    for i, part in enumerate(SUPERSCRIPT.split(text)):
        if not part:
            continue
        sup = i % 2 == 1
        c.setFont(font, size * 0.6 if sup else size)
        c.drawString(x, y + (size * 0.4 if sup else 0), part)
        x += stringWidth(part, font, size * 0.6 if sup else size)


def note_pitch(size: float) -> float:
    """Distance between the baselines of footnote lines set at this size."""
    return max(LINE * 0.6, size * 1.2)


def _note_lines(notes: list[str], font: str, width: float, size: float, indent: float) -> list[tuple[str, str]]:
    """A page's notes wrapped into lines, each as (hanging note number or "", text); with an indent, a note's leading
    "^N" hangs at the margin and all its lines are set indent further right."""
    lines: list[tuple[str, str]] = []
    for note in notes:
        mark = SUPERSCRIPT.match(note) if indent else None
        text = note[mark.end() :].lstrip() if mark else note
        for k, line in enumerate(wrap(text, font, size, width - indent, False)):
            lines.append((mark.group(0) if mark and k == 0 else "", line))
    return lines


def draw_notes(c: Any, font: str, notes: list[str], width: float, size: float, indent: float = 0.0) -> None:
    """Set footnotes at the foot of the page, small, above the page number, after a short rule ("^N" raises N; with a
    hanging indent the note's number stands alone at the margin)."""
    lines = _note_lines(notes, font, width, size, indent)
    pitch = note_pitch(size)
    y = 48 + pitch * len(lines)
    c.line(MARGIN, y + 10, MARGIN + 120, y + 10)
    c.setFont(font, size)
    for mark, line in lines:
        if mark:
            draw_marked(c, font, size, MARGIN, y, mark)
            c.setFont(font, size)
        if SUPERSCRIPT.search(line):
            draw_marked(c, font, size, MARGIN + indent, y, line)
        else:
            c.drawString(MARGIN + indent, y, line)
        y -= pitch


def build_pdf(path: Path, spec: DocSpec) -> Path:
    """Write the PDF (deterministic bytes) and return its path."""
    from reportlab.pdfgen.canvas import Canvas

    font = _register()
    path.parent.mkdir(parents=True, exist_ok=True)
    c = Canvas(str(path), pagesize=(PAGE_W, PAGE_H), invariant=1, pageCompression=1)
    if spec.metadata_title:
        c.setTitle(spec.title)
    if spec.author:
        c.setAuthor(spec.author)
    for page_index, style, start in spec.labels:
        c.addPageLabel(page_index, style=style, start=start)
    n = len(spec.pages)
    heading_no = 0
    for i, page in enumerate(spec.pages):
        header = spec.even_header if spec.even_header and i % 2 else spec.header
        if header and i not in spec.headerless:
            c.setFont(font, 8)
            c.drawString(MARGIN, PAGE_H - 36, header)
        if spec.footer_numbers:
            c.setFont(font, 8)
            c.drawCentredString(PAGE_W / 2, 30, str(i + 1))
        y = PAGE_H - 80
        notes = [text for kind, text in page.blocks if kind == "fn"]
        floor = 60 + (
            note_pitch(spec.note_size)
            * len(_note_lines(notes, font, PAGE_W - 2 * MARGIN, spec.note_size, spec.note_indent))
            + 20
            if notes
            else 0
        )
        for kind, text in page.blocks:
            if kind == "fn":
                continue
            if kind == "toc":
                title, _, number = text.rpartition("|")
                from reportlab.pdfbase.pdfmetrics import stringWidth

                c.setFont(font, spec.font_size)
                room = PAGE_W - 2 * MARGIN - stringWidth(f"{title}  {number}", font, spec.font_size)
                dots = " ." * max(3, int(room / stringWidth(" .", font, spec.font_size)))
                c.drawString(MARGIN, y, f"{title}{dots} {number}")
                y -= LINE
                continue
            if kind.startswith("h"):
                level = int(kind[1:])
                key = f"h{heading_no}"
                heading_no += 1
                c.bookmarkHorizontal(key, 0, y + 14)
                if spec.outline:
                    c.addOutlineEntry(SUPERSCRIPT.sub("", text), key, level=level - 1)
                draw_marked(c, font, {1: 18, 2: 13}.get(level, 11.5), MARGIN, y, text)
                y -= LINE * 1.8
                continue
            for line in wrap(text, font, spec.font_size, PAGE_W - 2 * MARGIN, spec.hyphenate):
                if y < max(60, floor):
                    raise ValueError(f"{path.name}: page {i + 1} overflows; shorten it")
                draw_marked(c, font, spec.font_size, MARGIN, y, line)
                y -= LINE
            y -= LINE * 0.6
        if notes:
            draw_notes(c, font, notes, PAGE_W - 2 * MARGIN, spec.note_size, spec.note_indent)
        if i < n - 1:
            c.showPage()
    c.save()
    return path
