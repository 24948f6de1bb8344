"""What a page or passage is for: body text, footnotes, a table of contents, an index, or a reference list.

Such regions stay searchable, but a question about substance should be answered by the body text, so search
demotes the other regions (see `Settings.region_weights`). Pages are classified by the shape of their lines:
contents pages are mostly entries ending in a page number (often after dot leaders), index pages mostly terms
followed by page numbers, reference lists mostly citations (years, URLs, "et al.", publishers).
"""

from __future__ import annotations

import re

BODY, FOOTNOTE, CONTENTS, INDEX, REFERENCES = "body", "footnote", "contents", "index", "references"
REGIONS: tuple[str, ...] = (BODY, FOOTNOTE, CONTENTS, INDEX, REFERENCES)

_LEADER_ENTRY = re.compile(r"(?:\.\s?){4,}|…{2,}|_{4,}|\s{3,}")
_LEADERS_ONLY = re.compile(r"^(?:\.\s?){6,}\s*\d{0,4}$|^…{3,}\s*\d{0,4}$")
_ENDS_WITH_PAGE = re.compile(r"^(?!\d{1,4}$).{3,}?[\s.…]\s*(?:\d{1,4}|[ivxlc]{1,6})$", re.IGNORECASE)
_INDEX_ENTRY = re.compile(r"^[^\d].{1,60}?,\s*\d{1,4}(?:\s*[-–]\s*\d{1,4})?(?:,\s*\d{1,4}(?:\s*[-–]\s*\d{1,4})?)*\.?$")
_CITATION = re.compile(
    r"https?://|www\.|doi\.org|\bet al\.|\bibid\b|\bop\. cit|\(\d{4}[a-z]?\)|\b(?:19|20)\d{2}[a-z]?[.,)]|"
    r"\bpp?\.\s*\d|\baccessed\b|\bretrieved\b|\bvol\.\s*\d|\bno\.\s*\d|\bjournal\b|\bpress\b|\beds?\.",
    re.IGNORECASE,
)
_CONTENTS_TITLE = re.compile(
    r"^(?:table of )?contents$|^sadržaj$|^sadrzaj$|^садржај$|^содржина$|^përmbajtja$|^permbajtja$|^índice$|"
    r"^indice$|^sommaire$|^inhalt(?:sverzeichnis)?$",
    re.IGNORECASE,
)
_INDEX_TITLE = re.compile(r"^(?:subject |general )?index$|^indeks$|^индекс$|^регистар$", re.IGNORECASE)
_REFERENCES_TITLE = re.compile(
    r"^(?:references|bibliography|works cited|sources|endnotes|notes|literatura|izvori|литература|извори|"
    r"referencat|bibliografia|bibliografija|библиографија)$",
    re.IGNORECASE,
)
MIN_LINES = 5


def _lines(text: str) -> list[str]:
    """Non-empty stripped lines."""
    return [ln.strip() for ln in text.split("\n") if ln.strip()]


def _share(lines: list[str], pattern: re.Pattern[str], search: bool = False) -> float:
    """Share of lines matching a pattern."""
    if not lines:
        return 0.0
    hits = sum(1 for ln in lines if (pattern.search(ln) if search else pattern.match(ln)))
    return hits / len(lines)


def page_region(text: str) -> str:
    """Classify one page's body text as contents, index, references or body."""
    lines = _lines(text)
    titled_contents = any(_CONTENTS_TITLE.match(ln.strip(" :.")) for ln in lines[:3])
    titled_index = any(_INDEX_TITLE.match(ln.strip(" :.")) for ln in lines[:3])
    titled_refs = any(_REFERENCES_TITLE.match(ln.strip(" :.")) for ln in lines[:3])
    if len(lines) < MIN_LINES and not (titled_contents or titled_index):
        return BODY
    entries = sum(1 for ln in lines if _ENDS_WITH_PAGE.match(ln) and (_LEADER_ENTRY.search(ln) or len(ln) < 120))
    leaders = sum(
        1 for ln in lines if (_LEADER_ENTRY.search(ln) and _ENDS_WITH_PAGE.match(ln)) or _LEADERS_ONLY.match(ln)
    )
    if leaders >= 3 and leaders / len(lines) >= 0.3:
        return CONTENTS
    if titled_contents and entries / len(lines) >= 0.3:
        return CONTENTS
    if _share(lines, _INDEX_ENTRY) >= (0.3 if titled_index else 0.6) and len(lines) >= MIN_LINES:
        return INDEX
    if _share(lines, _CITATION, search=True) >= (0.4 if titled_refs else 0.7) and len(lines) >= MIN_LINES:
        return REFERENCES
    return BODY
