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
_REFERENCE_MARKS = r"\bpara\.|\bp\.\s*\d|www\.|https?:|\bibid\b|\bsee\b"  # a citation's words
_FOOTNOTE = re.compile(r"[;/]|" + _REFERENCE_MARKS, re.IGNORECASE)
# in a line the PDF sets like a heading only a citation's marks count: a slash between words is a title's ('AML/CFT')
_CITATION = re.compile(r";|(?<![^\W\d_])/|/(?![^\W\d_])|" + _REFERENCE_MARKS, re.IGNORECASE)
_MD = re.compile(r"^(#{1,6})\s+(.+?)\s*#*$")
_JUNK_OUTLINE = re.compile(r"(\.pdf|\.docx?)$|^(blank page|(front |back )?cover\b.*)$", re.IGNORECASE)
_TRAILING_CONNECTIVE = re.compile(r"\b(and|or|the|of|to|in|for|with|a|an|by|on|i|ili|u|na|za|dhe|e|и|на)$", re.I)
_CLOSING = (".", ":", "?", "!", ";")  # a line ending so has closed its sentence or title
_NUMBER = re.compile(r"(?<!\S)[#$€£]?\d[\d.,]*%?(?!\S)")
_YEAR = re.compile(r"(19|20)\d\d")
_NUMBER_PREFIX = re.compile(r"^((?:\d{1,2}\.){0,3}\d{1,2}\.?|[IVX]{1,6}\.|[A-H]\.)\s")
_DOCUMENT_NUMBER = re.compile(
    r"\b(?:resolutions?|forms?|articles?|recommendations?|regulations?|directives?|paragraphs?|rezolucij\w*|"
    r"rezolut\w*|резолуциј\w*|član\w*|член\w*|neni)\s+(?:no\.\s*)?\d[\d/.,]*(?:\s*\(\d{4}\))?"
    r"(?:\s*(?:,|and|i|и|dhe)\s*\d[\d/.,]*(?:\s*\(\d{4}\))?)*",
    re.IGNORECASE,
)
_SECTION_WORD = re.compile(r"^(?:(?:table of )?contents|foreword|preface|introduction|summary|annex \w+)$", re.I)
_COLOPHON = re.compile(r"\bISBN\b|\bISSN\b|\bDOI\b|©")  # an imprint line ('PDF | ISBN 978-92-... | DOI: 10.2813/...')
_PAGE_LED = re.compile(r"^(\d{1,3})\s+[A-Z\u00C0-\u024F\u0400-\u04FF]")  # '3 Form & Typology' (no stop after it)
# a sentence's end inside a line: a word of three small letters or more, a stop, a capital ('St. Vincent' is none)
_SENTENCE_END = re.compile(
    r"[a-z\u00DF-\u024F\u0430-\u045F]{3}\. +[A-Z\u00C0-\u00DE\u0106\u010C\u0110\u0160\u017D\u0400-\u042F]"
)
MAX_JOINED_WORDS = 40  # a heading wrapped over lines is at most this long; a longer run keeps only its first line


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


def _heading_level(line: str, typeset: bool = False) -> int | None:
    """The nesting level if a line looks like a heading, else None (`typeset`: the PDF sets the line like a heading,
    so only a citation's marks, not a slash between words, make it a reference)."""
    words = line.split()
    if not (1 <= len(words) <= 12) or len(line) > 100 or line.endswith((",", ";", ":")):
        return None
    if _TRAILING_CONNECTIVE.search(line):
        return None
    m = _NUMBERED.match(line)
    if m:
        title = m.group("title")
        digits = sum(c.isdigit() for c in title)
        if (
            len(words) > 10
            or line.endswith(".")
            or (_CITATION if typeset else _FOOTNOTE).search(title)
            or digits > 0.2 * len(title)
            or _is_figure_label(line)
        ):
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
# a footnote letter glued after a heading's closing stop ('... during their trajectories.i', UNODC GLOTIP); the stop
# goes too, as a heading ending in a stop would read as a sentence
_GLUED_NOTE_LETTER = re.compile(r"(?<=[a-z\u00DF-\u024F\u0430-\u045F]{2})\.[a-z]$")


# a small word glued to a word in capitals, as a bookmark or a change of font leaves it ('RESPONSE GUIDEfor School')
_GLUED_SMALL_WORD = re.compile(r"(?<=[A-Z]{2})(?=(?:for|of|and|the|in|on|to|with|by)\s)")


def strip_note_mark(title: str) -> str:
    """Drop a footnote number glued to a heading's last word ('evolution of the threat4', 'Legal persons51F') or a
    footnote letter after its closing stop ('trajectories.i' -> 'trajectories'), and part a small word glued to a
    word in capitals ('GUIDEfor School' -> 'GUIDE for School')."""
    title = _GLUED_NOTE_LETTER.sub("", _GLUED_NOTE_MARK.sub("", title).rstrip())
    return _GLUED_SMALL_WORD.sub(" ", title)


def _is_figure(number: str) -> bool:
    """A number that is a statistic, not a year ('2020', '2020.' as Serbian writes it) or a count in a title: three
    digits or more, a decimal, a share."""
    digits = sum(c.isdigit() for c in number)
    year = _YEAR.fullmatch(number.rstrip(".,"))
    return not year and (digits >= 3 or "%" in number or bool(re.search(r"\d[.,]\d", number)))


def _is_figure_label(line: str) -> bool:
    """A chart or table label with figures in it ('Total Unique Victims 16610 16554', '10 Kazakhstan 4.65', '2021
    Form of Trafficking 2020 2021'), not a title with a date or a number ('Letter dated 1 May 2025', 'Action
    point 2')."""
    line = _NUMBER_PREFIX.sub("", line)  # a section number ('4.1 Action point 1') is not a figure
    line = _DOCUMENT_NUMBER.sub(" ", line)  # nor the number of a resolution, form or article ('resolution 1373')
    numbers = _NUMBER.findall(line)
    figures = [n for n in numbers if _is_figure(n)]
    words = line.split()
    return len(figures) >= 2 or len(numbers) >= 3 or bool(words and figures and words[-1] == figures[-1])


def _looks_like_heading(line: str) -> bool:
    """A line typeset like a heading that reads like one: short, starts with a capital or number, no final stop,
    not a chart label."""
    words = line.split()
    return (
        1 <= len(words) <= 12
        and len(line) <= 100
        and (line[0].isupper() or line[0].isdigit())
        and not line.endswith((".", ",", ";", ":"))
        and not _CITATION.search(line)
        and sum(c.isalpha() for c in line) >= 3
        and not _is_figure_label(line)
    )


def _continues(line: str, following: str) -> bool:
    """Whether `following` carries on the sentence or title `line` began (no closing stop, and the next line starts
    in lower case, or this one ends on a connective, dash or comma, or both are in capitals)."""
    if not following or line.endswith(_CLOSING):
        return False
    if _NUMBERED.match(following) or _KEYWORD.match(following):
        return False
    last_word = line.split()[-1] if line.split() else ""  # 'Annex A', 'Part I' do not end on a connective
    return (
        following[0].islower()
        or (not (len(last_word) == 1 and last_word.isupper()) and bool(_TRAILING_CONNECTIVE.search(line)))
        or line.endswith(("-", "–", ","))
        or (_all_caps(line) and _all_caps(following) and not _SECTION_WORD.match(following.strip(" :.")))
    )


def _all_caps(line: str) -> bool:
    """Every letter of the line is a capital (a cover title's lines)."""
    letters = [c for c in line if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


def _looks_like_title(line: str) -> bool:
    """A plain-text document's first line that reads like a title (short, no final period)."""
    return (
        2 <= len(line.split()) <= 14
        and not line.endswith((".", ",", ";", ":"))
        and not _FOOTNOTE.search(line)
        and not _is_figure_label(line)
    )


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
        if regions is not None and regions[pno - 1] not in HEADING_REGIONS:
            continue
        heading_set, body_set = typography[pno - 1] if typography else ({}, set())
        lines = text.split("\n")
        offsets = [0]
        for line in lines:
            offsets.append(offsets[-1] + len(line) + 1)
        contents_lines = _page_led_entries(lines, heading_set) if not markdown else set()
        lineno = 0
        while lineno < len(lines):
            stripped = lines[lineno].strip()
            if lineno in contents_lines:
                lineno += 1
                continue
            level: int | None = None
            title = stripped
            last = lineno
            if markdown:
                m = _MD.match(stripped)
                if m:
                    level, title = len(m.group(1)), m.group(2)
            elif stripped:
                typeset = _typeset_level(stripped, heading_set, body_set, sizes)
                level = _heading_level(stripped, bool(typeset)) if typeset != 0 else None
                by_size_only = level is None and bool(typeset) and _looks_like_heading(stripped)
                if by_size_only:
                    level = typeset
                if level is None and pno == 1 and lineno == 0 and _looks_like_title(stripped):
                    level = 1
                if typeset:
                    joined, end = _wrapped(lines, lineno, heading_set, cover=pno == 1 and lineno == 0)
                    if end > lineno:
                        if _reads_as_prose(joined):
                            level, last = None, end  # a run of large type (a pull quote, an introduction)
                        elif len(joined.split()) > MAX_JOINED_WORDS:
                            last = end  # too long for a title: its first line stands for it, the rest is read
                        elif (joined_level := _joined_level(joined, level or typeset)) is not None:
                            level, title, last = joined_level, joined, end
                following = lines[last + 1].strip() if last + 1 < len(lines) else ""
                if (
                    by_size_only
                    and last == lineno
                    and not _all_caps(stripped)
                    and _runs_on(stripped, following, heading_set)
                ):
                    level = None  # a sentence in large type running on into the text (a pull quote), not a heading
                title = strip_note_mark(title)
            if level is not None and title and not _COLOPHON.search(title):
                out.append(Heading(level=level, title=title, page=pno, offset=offsets[lineno]))
            lineno = last + 1
    return out


def _runs_on(line: str, following: str, heading_set: dict[str, float]) -> bool:
    """Whether a line is the start of a sentence that runs on into the next line: the next starts in lower case, or
    is set in the same type and ends a sentence ('... the Polaris operated National Human' / 'Trafficking Hotline.
    Please refer to ...')."""
    if not following or line.endswith(_CLOSING):
        return False
    if following[0].islower():
        return not following.startswith(("www.", "http"))  # a letterhead's address under the name is not prose
    same_type = heading_set.get(_squash(following)) == heading_set.get(_squash(line))
    return same_type and (following.endswith(".") or bool(_SENTENCE_END.search(following)))


def _page_led_entries(lines: list[str], heading_set: dict[str, float]) -> set[int]:
    """The lines of a contents list printed page number first ('3 Form & Typology', '6 Demographics', on a cover or
    an introduction page): four or more on a page, set like headings, their numbers rising with a gap somewhere
    (section numbers run on one by one)."""
    found = [
        (i, int(m.group(1)))
        for i, line in enumerate(lines)
        if (m := _PAGE_LED.match(line.strip())) and _squash(line) in heading_set  # set like headings, as a cover's are
    ]
    numbers = [n for _, n in found]
    steps = [b - a for a, b in zip(numbers, numbers[1:], strict=False)]
    if len(found) >= 4 and all(step > 0 for step in steps) and any(step >= 2 for step in steps):
        return {i for i, _ in found}
    return set()


def _wrapped(lines: list[str], start: int, heading_set: dict[str, float], cover: bool = False) -> tuple[str, int]:
    """A heading line joined with the lines it wraps onto (set in the same type, carrying on; on a cover, where the
    title opens the page, every following line in its type), and the index of its last line."""
    size = heading_set[_squash(lines[start].strip())]
    parts = [strip_note_mark(lines[start].strip())]
    end = start
    while end + 1 < len(lines):
        following = lines[end + 1].strip()
        if heading_set.get(_squash(following)) != size:
            break
        if not (_continues(parts[-1], following) or (cover and following and not _NUMBERED.match(following))):
            break
        parts.append(strip_note_mark(following))
        end += 1
    return " ".join(parts), end


def _reads_as_prose(text: str) -> bool:
    """A run of lines in large type that reads as prose, not a title: it holds or ends with a sentence's end."""
    return text.endswith(".") or bool(_SENTENCE_END.search(text))


def _joined_level(title: str, level: int) -> int | None:
    """The level of a heading wrapped over lines (its number's depth if numbered), or None if the joined lines do not
    read like a heading (a lower-case start, a citation, a chart label)."""
    if (
        not (title[0].isupper() or title[0].isdigit())
        or title.endswith((",", ";", ":"))
        or _CITATION.search(title)
        or _is_figure_label(title)
    ):
        return None
    m = _NUMBER_PREFIX.match(title)
    if m and m.group(1)[0].isdigit():
        return m.group(1).rstrip(".").count(".") + 1
    return 1 if m else level


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
