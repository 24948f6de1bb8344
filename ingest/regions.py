"""What a page or passage is for: body text, footnotes, contents, an index, a reference list, a list of acronyms, or
front matter.

Such regions stay searchable, but a question about substance should be answered by the body text, so search
demotes the other regions by a weight per region (`Settings.region_weights`, front matter's under "front"). Pages
are classified by the shape of their lines: contents pages are mostly entries ending in a page number (often after
dot leaders), index pages mostly terms followed by page numbers, reference lists mostly citations (years, URLs, "et
al.", publishers), lists of acronyms mostly an acronym followed by what it stands for ("VASP Virtual Asset Service
Provider"), under a title such as "Acronyms" or "List of abbreviations". Front matter is what a PDF prints before
its first page of text: the cover and title pages (few words, set like headings), the imprint (copyright, ISBN,
reproduction and citation notices, disclaimers), acknowledgements and contributors; and, anywhere, a page
"intentionally left blank".
"""

from __future__ import annotations

import re

from pactkb.ingest.types import Page
from pactkb.settings import REGIONS

BODY, FOOTNOTE, CONTENTS, INDEX, REFERENCES, FRONT, ACRONYMS = (
    REGIONS  # a configuration vocabulary (Settings.region_weights)
)
HEADING_REGIONS: tuple[str, ...] = (BODY, FRONT)  # pages whose lines may be headings (ingest/sections.py)

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
_ACRONYMS_TITLE = re.compile(
    r"^(?:(?:list|table|glossary) of )?(?:acronyms|abbreviations)(?: and (?:acronyms|abbreviations))?$|"
    r"^(?:popis |lista |spisak )?skra[cć]enica$|^skra[cć]enice$|^скраћенице$|^кратенки$|"
    r"^(?:lista e )?shkurtime(?:ve|t)?$",
    re.IGNORECASE,
)
_ACRONYM_ENTRY = re.compile(r"^([^\W\d_][\w/&.\-]{1,11})\s+([^\W\d_].{2,})$")
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
    titled_acronyms = any(_ACRONYMS_TITLE.match(re.sub(r"^\d+\s+|\s+\d+$", "", ln).strip(" :.")) for ln in lines[:3])
    if sum(map(is_acronym_entry, lines)) / len(lines) >= (0.4 if titled_acronyms else 0.8):
        return ACRONYMS
    return BODY


def is_acronym_entry(line: str) -> bool:
    """A line of a list of acronyms: a short word of at least two capitals, half its letters capitals and no run of
    four small letters ("AML", "DeFi", "MT202COV"), then what it stands for, not in capitals ("Anti-Money
    Laundering"); a name ("Danett Williams") or a heading ("ML TYPOLOGIES") is not one."""
    found = _ACRONYM_ENTRY.match(line)
    if found is None:
        return False
    short, long = found.groups()
    capitals = sum(ch.isupper() for ch in short)
    letters = sum(ch.isalpha() for ch in short)
    return capitals >= 2 and capitals * 2 >= letters and not re.search(r"[a-z]{4}", short) and not long.isupper()


# what an imprint page says: each pattern is one kind of notice; two kinds (one on a page of few words) make an imprint
_IMPRINT: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"©|\(c\)\s*(?:19|20)\d{2}|\bcopyright\b",
        r"\ball rights reserved\b",
        r"\bISBN\b|\bISSN\b|\bDOI:\s*10\.",
        r"\breproduc(?:tion|ed)\b.{0,60}\b(?:authori[sz]ed|permi(?:tted|ssion)|provided|without)|"
        r"\bno reproduction\b|\bpermission to (?:copy|reproduce)\b|\bapplications? for (?:such )?permission\b",
        r"\bciting reference\b|\bcite this (?:publication|report|document)\b|\b(?:recommended|suggested) citation\b",
        r"\bphoto ?credits?\b|\bcover (?:photo|image|picture|design)\b",
        r"\bpublications office\b|\bprinted in\b|\bfirst published\b|\bpublished (?:in|by) \d{0,4}",
        r"\b(?:opinions|views) (?:expressed|contained) (?:herein|in this)\b|\bdo(?:es)? not necessarily (?:represent|"
        r"reflect)\b|\bdisclaimer\b|\bwithout prejudice to the status\b|\bis responsible for the use\b|"
        r"\bassume any responsibility\b",
        r"\bcreative commons\b|\blicensed under\b",
        r"\bavailable (?:online )?(?:at|on)\b.{0,40}(?:website|internet|https?://|www\.)",
    )
)
_FRONT_TITLE = re.compile(
    r"^(?:acknowledge?ments?|(?:study )?contributors|supporters|about the authors?|credits|imprint|impressum|"
    r"impresum|legal notice|copyright(?: notice)?|zahvale|zahvalnica)$",
    re.IGNORECASE,
)
_BLANK_NOTICE = re.compile(
    r"^(?:this )?(?:page )?(?:is |has been )?(?:intentionally|deliberately) (?:left )?blank\.?$|^blank page$",
    re.IGNORECASE,
)
COVER_WORDS = 25  # a page of this few words before the first page of text is a cover or title page
TITLE_PAGE_WORDS = 80  # ... and of this few when set like a title (not like body text) or carrying a notice
IMPRINT_WORDS = 450  # an imprint page (two kinds of notice) is at most this long
FRONT_PAGES = 12  # front matter is looked for on this many first pages
BLANK_WORDS = 12


def _words(text: str) -> int:
    """Number of whitespace-separated words."""
    return len(text.split())


def _set_like_title(page: Page) -> bool:
    """The page's typography is known and less than half of its characters are set like body text."""
    if not page.body_lines and not page.heading_lines:
        return False
    chars = len("".join(page.text.split())) or 1
    return sum(len(key) for key in page.body_lines) / chars < 0.5


def is_blank_notice(text: str) -> bool:
    """A page saying only that it is blank ('This page intentionally left blank')."""
    return _words(text) <= BLANK_WORDS and bool(_BLANK_NOTICE.match(" ".join(text.split()).strip()))


def is_front_page(page: Page) -> bool:
    """A cover, title, imprint, acknowledgements or blank page: judged by its words, notices and typography. An
    imprint's notices may be set small at the foot, where layout cut them out as notes; a page with real footnotes
    is never a cover or title page."""
    text = page.text
    words = _words(text)
    if not words:
        return False
    notices = sum(1 for pattern in _IMPRINT if pattern.search(page.full_text))
    if notices >= 2 and _words(page.full_text) <= IMPRINT_WORDS:
        return True
    if page.notes:
        return False
    return (
        is_blank_notice(text)
        or bool(_FRONT_TITLE.match(_lines(text)[0].strip(" :.")))
        or words <= COVER_WORDS
        or (words <= TITLE_PAGE_WORDS and (notices >= 1 or _set_like_title(page)))
    )


def mark_front_matter(pages: list[Page]) -> int:
    """Set FRONT on a PDF's front matter: the front pages before its first page of body text (contents and empty
    pages may come between; a document with no body page after them has none), and blank-page notices anywhere.
    Returns how many pages were marked."""
    front: list[Page] = []
    for page in pages[:FRONT_PAGES]:
        if not page.text.strip() or page.region == CONTENTS:
            continue
        if page.region != BODY or not is_front_page(page):
            break
        front.append(page)
    else:
        front = []  # no body page follows: nothing to tell the front matter from
    marked = {id(p) for p in front}
    front += [p for p in pages if p.region == BODY and id(p) not in marked and is_blank_notice(p.text)]
    for page in front:
        page.region = FRONT
    return len(front)
