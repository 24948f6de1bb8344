"""Clean extracted page text: Unicode, whitespace, hyphenation, running headers/footers, page numbers."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

_LIGATURES = {
    "\ufb00": "ff",
    "\ufb01": "fi",
    "\ufb02": "fl",
    "\ufb03": "ffi",
    "\ufb04": "ffl",
    "\ufb05": "st",
    "\ufb06": "st",
}
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_HYPHEN_BREAK = re.compile(r"(\w+)[-\u2010\u2011]\n[ \t]*([a-zà-žа-џ]\w*)", re.UNICODE)
_PAGE_NUMBER = re.compile(
    r"^(?:page|p\.|str\.|стр\.|faqe)?\s*[-–—]?\s*(?:\d{1,4}|[ivxlcdm]{1,7})\s*[-–—]?"
    r"(?:\s*(?:/|of|od|из|nga)\s*\d{1,4})?$",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d+")
_SPACED_HYPHEN = re.compile(r"(?<=[^\W\d_]) -(?=[^\W\d_])")  # pypdf artefact: "co -operation"
MAX_HEADER_WORDS = 16
EDGE_LINES = 3  # lines at the top and bottom of a page that may be running headers/footers
RUNNING_SHARE = 0.4  # a running line is at the same edge of more than this share of the pages ...
PARITY_SHARE = 0.5  # ... or of this share of the odd (or the even) pages: headers alternating left/right
PARITY_MIN_PAGES = 8  # shorter documents are judged over all their pages only


def normalize_unicode(text: str) -> str:
    """NFC-normalise, expand typographic ligatures, drop soft hyphens and zero-width characters."""
    for lig, rep in _LIGATURES.items():
        text = text.replace(lig, rep)
    text = text.translate(_INVISIBLE)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


def normalize_whitespace(text: str) -> str:
    """Collapse runs of spaces, trim lines, and keep at most one blank line between paragraphs."""
    lines = [_SPACED_HYPHEN.sub("-", _SPACES.sub(" ", line)).strip() for line in text.split("\n")]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def document_vocabulary(pages: list[str]) -> set[str]:
    """Lower-cased words of a document, used to decide how to join hyphenated line breaks."""
    return {w.lower() for page in pages for w in re.findall(r"[^\W\d_][\w-]*", page)}


def dehyphenate(text: str, vocab: set[str] | None = None) -> str:
    """Join words split by a hyphen at a line break; keep the hyphen when the document spells it so."""

    def join(m: re.Match[str]) -> str:
        left, right = m.group(1), m.group(2)
        if vocab is not None and f"{left}-{right}".lower() in vocab and (left + right).lower() not in vocab:
            return f"{left}-{right}"
        return left + right

    return _HYPHEN_BREAK.sub(join, text)


def _line_key(line: str) -> str:
    """A line with its numbers masked, for recognising running headers and footers ('' = not a candidate)."""
    if len(line.split()) > MAX_HEADER_WORDS:
        return ""  # running headers and footers are short; long lines are body text
    return _DIGITS.sub("#", line.lower()).strip()


def is_page_number(line: str) -> bool:
    """True for a bare page number such as '12', '- 12 -', 'Page 3 of 9' or 'iv'."""
    return bool(_PAGE_NUMBER.match(line.strip())) and len(line.strip()) <= 20


def _threshold(n_pages: int, share: float) -> int | None:
    """Pages a line must head (or foot) to count as running among n_pages (None: too few pages to tell)."""
    return max(2, int(share * n_pages) + 1) if n_pages >= 2 else None


def _running_keys(edges: list[set[str]], share: float) -> set[str]:
    """Line keys found at the same edge of more than `share` of these pages."""
    threshold = _threshold(len(edges), share)
    if threshold is None:
        return set()
    counts: Counter[str] = Counter()
    for keys in edges:
        counts.update(keys)
    return {k for k, n in counts.items() if n >= threshold}


def _repeated(edges: list[set[str]], by_parity: bool) -> set[str]:
    """Running line keys of one edge: over all pages, or (`by_parity`, from PARITY_MIN_PAGES on) over the odd or the
    even pages.

    Books and reports alternate their running headers between left and right pages, so each
    variant heads only about half of the pages and misses the all-pages threshold.
    """
    repeated = _running_keys(edges, RUNNING_SHARE)
    if by_parity and len(edges) >= PARITY_MIN_PAGES:
        repeated |= _running_keys(edges[0::2], PARITY_SHARE) | _running_keys(edges[1::2], PARITY_SHARE)
    return repeated


def strip_running_lines(pages: list[str], by_parity: bool = False) -> list[str]:
    """Drop lines that repeat at the top (or bottom) of many pages, and bare page numbers there.

    A line is running when it is at the same edge of enough pages, or (`by_parity`) of enough of
    the odd (or the even) pages. Lines are removed from each edge inwards and removal stops at the first
    line that is neither a running line nor a page number, so body text is never cut from the middle.
    """
    split = [p.split("\n") for p in pages]
    tops: list[set[str]] = []
    bottoms: list[set[str]] = []
    for lines in split:
        nonempty = [ln for ln in lines if ln.strip()]
        tops.append({_line_key(ln) for ln in nonempty[:EDGE_LINES]} - {""})
        bottoms.append({_line_key(ln) for ln in nonempty[-EDGE_LINES:]} - {""})
    rep_top, rep_bottom = _repeated(tops, by_parity), _repeated(bottoms, by_parity)
    out: list[str] = []
    for lines in split:
        drop: set[int] = set()
        for order, repeated in ((range(len(lines)), rep_top), (range(len(lines) - 1, -1, -1), rep_bottom)):
            seen = 0
            for i in order:
                if not lines[i].strip():
                    continue
                if seen >= EDGE_LINES + 1 or not (_line_key(lines[i]) in repeated or is_page_number(lines[i])):
                    break
                drop.add(i)
                seen += 1
        out.append("\n".join(ln for i, ln in enumerate(lines) if i not in drop))
    return out


def clean_pages(raw_pages: list[str], by_parity: bool = False) -> list[str]:
    """Full cleaning of a document's pages, preserving one entry per physical page (`by_parity`: see
    strip_running_lines)."""
    pages = [normalize_whitespace(normalize_unicode(p or "")) for p in raw_pages]
    pages = strip_running_lines(pages, by_parity)
    vocab = document_vocabulary(pages)
    return [normalize_whitespace(dehyphenate(p, vocab)) for p in pages]


def clean_notes(notes: list[str], body_pages: list[str]) -> list[str]:
    """Clean footnote blocks like body text, joining their hyphenated line breaks by the body's spelling."""
    vocab = document_vocabulary(body_pages)
    return [
        normalize_whitespace(dehyphenate(normalize_whitespace(normalize_unicode(n)), vocab)) if n else "" for n in notes
    ]
