"""Section paths for chunks: headings from the PDF outline, or detected in the text."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable

from pactkb.ingest.regions import HEADING_REGIONS
from pactkb.ingest.types import Heading

_NUMBERED = re.compile(
    r"^(?P<num>(?:\d{1,2}\.){0,3}\d{1,2}\.?|[IVX]{1,6}\.|[A-H]\.|[A-H]\s[–-])\s+"
    r"(?P<title>[A-Z\u00C0-\u024F\u0400-\u04FF][^\n]{1,90})$"
)
_KEYWORD = re.compile(
    r"^(?P<kw>chapter|section|part|annex|appendix|article|poglavlje|dio|deo|član|clan|neni|"
    r"kapitulli|pjesa|глава|член|поглавље|дел)\s+[\dIVXLA-Z]+\b[^\n]{0,90}$",
    re.IGNORECASE,
)
_FOOTNOTE = re.compile(r"[;/]|\bpara\.|\bp\.\s*\d|www\.|https?:|\bibid\b|\bsee\b", re.IGNORECASE)
_MD = re.compile(r"^(#{1,6})\s+(.+?)\s*#*$")
_JUNK_OUTLINE = re.compile(r"(\.pdf|\.docx?)$|^(blank page|(front |back )?cover\b.*)$", re.IGNORECASE)
_TRAILING_CONNECTIVE = re.compile(r"\b(and|or|the|of|to|in|for|with|a|an|by|on|i|ili|u|na|za|dhe|e|и|на)$", re.I)


def _squash(text: str) -> str:
    """Lower-case text with all whitespace removed, for locating a heading inside page text."""
    return re.sub(r"\s+", "", text).lower()


def _locate(title: str, page_text: str) -> int:
    """Char offset of a heading title inside its page text (0 when it cannot be found)."""
    probe = _squash(title)[:40]
    if not probe:
        return 0
    squashed_chars: list[int] = []
    chars: list[str] = []
    for i, ch in enumerate(page_text):
        if not ch.isspace():
            chars.append(ch.lower())
            squashed_chars.append(i)
    pos = "".join(chars).find(probe)
    return squashed_chars[pos] if pos >= 0 else 0


def headings_from_outline(entries: Iterable[tuple[int, str, int]], pages: list[str]) -> list[Heading]:
    """Turn (level, title, page) bookmarks into headings with offsets, dropping cover/file-name junk."""
    out: list[Heading] = []
    for level, title, page in entries:
        if _JUNK_OUTLINE.search(title.strip()) or not (1 <= page <= len(pages)):
            continue
        title = strip_note_mark(title.strip())
        out.append(Heading(level=level, title=title, page=page, offset=_locate(title, pages[page - 1])))
    out.sort(key=lambda h: (h.page, h.offset))
    return out


def _heading_level(line: str) -> int | None:
    """The nesting level if a line looks like a heading, else None."""
    words = line.split()
    if not (1 <= len(words) <= 12) or len(line) > 100 or line.endswith((",", ";", ":")):
        return None
    if _TRAILING_CONNECTIVE.search(line):
        return None
    m = _NUMBERED.match(line)
    if m:
        title = m.group("title")
        digits = sum(c.isdigit() for c in title)
        if len(words) > 10 or line.endswith(".") or _FOOTNOTE.search(title) or digits > 0.2 * len(title):
            return None  # footnotes and references ('7 S/2024/556, para. 94; see ...') are not headings
        num = m.group("num").rstrip(".")
        return num.count(".") + 1 if num[0].isdigit() else 1
    if _KEYWORD.match(line):
        return 1
    letters = [c for c in line if c.isalpha()]
    if len(letters) >= 4 and len(words) >= 2 and sum(c.isupper() for c in letters) / len(letters) > 0.9:
        return 1 if not line.endswith(".") else None
    return None


# a footnote number glued to a heading's last word; in bookmarks Word writes it with an F ('A.  Legal persons51F')
_GLUED_NOTE_MARK = re.compile(r"(?<=[a-z\u00DF-\u024F\u0430-\u045F)’'\"])\d{1,3}F?$")


def strip_note_mark(title: str) -> str:
    """Drop a footnote number glued to a heading's last word ('evolution of the threat4', 'Legal persons51F')."""
    return _GLUED_NOTE_MARK.sub("", title).rstrip()


def _looks_like_heading(line: str) -> bool:
    """A line typeset like a heading that reads like one: short, starts with a capital or number, no final stop."""
    words = line.split()
    return (
        1 <= len(words) <= 12
        and len(line) <= 100
        and (line[0].isupper() or line[0].isdigit())
        and not line.endswith((".", ",", ";", ":"))
        and not _FOOTNOTE.search(line)
        and sum(c.isalpha() for c in line) >= 3
    )


def _looks_like_title(line: str) -> bool:
    """A plain-text document's first line that reads like a title (short, no final period)."""
    return 2 <= len(line.split()) <= 14 and not line.endswith((".", ",", ";", ":")) and not _FOOTNOTE.search(line)


def _typeset_level(line: str, heading: dict[str, float], body: set[str], sizes: list[float]) -> int | None:
    """What the PDF's typography says of a line: None = no opinion, 0 = set as body text, else its heading level
    (the rank of its size among the document's heading sizes, at most 3)."""
    key = _squash(line)
    if key in body:
        return 0
    if key in heading:
        return min(3, sizes.index(heading[key]) + 1) if heading[key] in sizes else 3
    return None


def detect_headings(
    pages: list[str],
    markdown: bool = False,
    regions: list[str] | None = None,
    typography: list[tuple[dict[str, float], set[str]]] | None = None,
) -> list[Heading]:
    """Find heading lines in page text (Markdown '#' headings, numbered or all-caps lines).

    Pages that are not body text (contents, index, references) give no headings; front matter does (a cover's
    title heads the document, as it did before front matter was recognised). With the PDF's typography
    (per page: lines set like headings, lines set like body text), a line set in body type is never a heading,
    however it is numbered ('17. On behalf of the Committee, ...'), and a short line set like a heading is one.
    """
    out: list[Heading] = []
    sizes = sorted({size for heading, _ in typography or [] for size in heading.values()}, reverse=True)
    for pno, text in enumerate(pages, start=1):
        offset = 0
        if regions is not None and regions[pno - 1] not in HEADING_REGIONS:
            continue
        heading_set, body_set = typography[pno - 1] if typography else ({}, set())
        for lineno, line in enumerate(text.split("\n")):
            stripped = line.strip()
            level: int | None = None
            title = stripped
            if markdown:
                m = _MD.match(stripped)
                if m:
                    level, title = len(m.group(1)), m.group(2)
            else:
                typeset = _typeset_level(stripped, heading_set, body_set, sizes) if stripped else None
                level = _heading_level(stripped) if typeset != 0 else None
                if level is None and typeset and _looks_like_heading(stripped):
                    level = typeset
                if level is None and pno == 1 and lineno == 0 and _looks_like_title(stripped):
                    level = 1
                title = strip_note_mark(title)
            if level is not None and title:
                out.append(Heading(level=level, title=title, page=pno, offset=offset))
            offset += len(line) + 1
    return out


class SectionIndex:
    """Answers 'which section path holds this position?' for a document's headings."""

    def __init__(self, headings: list[Heading]) -> None:
        """Build the lookup from headings sorted in reading order."""
        ordered = sorted(headings, key=lambda h: (h.page, h.offset))
        self.headings = ordered
        self._keys: list[tuple[int, int]] = []
        self._paths: list[str] = []
        stack: list[tuple[int, str]] = []
        for h in ordered:
            while stack and stack[-1][0] >= h.level:
                stack.pop()
            stack.append((h.level, h.title))
            self._keys.append((h.page, h.offset))
            self._paths.append(" > ".join(t for _, t in stack))

    def path_at(self, page: int, offset: int) -> str:
        """The section path in force at (page, offset), or '' before the first heading."""
        i = bisect.bisect_right(self._keys, (page, offset)) - 1
        return self._paths[i] if i >= 0 else ""

    def paths(self) -> list[str]:
        """All section paths in reading order (a table of contents)."""
        return list(self._paths)
