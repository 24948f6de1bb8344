"""Document families: editions of one text (FATF Recommendations 2020 and 2025, the twentieth and twenty-first
Secretary-General report on ISIL) recognised at ingest so that search can prefer the current edition.

A family is the publisher plus the title with everything that changes between editions taken out: years, months,
document symbols (S/2025/496), "updated", "edition", "revision", ordinal words and numbers. A manifest's `series`
column names the family outright (for editions whose titles differ), and its `edition` column orders them.
Editions are ordered by year, then by the ordinal in the title ("twenty-first" > "twentieth").
"""

from __future__ import annotations

import re

from pactkb.index.fold import fold

_UNITS = ["", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth"]
_TEENS = [
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
]
_TENS = {"twent": 20, "thirt": 30, "fort": 40, "fift": 50, "sixt": 60, "sevent": 70, "eight": 80, "ninet": 90}
ORDINALS: dict[str, int] = {w: i for i, w in enumerate(_UNITS) if w} | {w: 10 + i for i, w in enumerate(_TEENS)}
for _stem, _n in _TENS.items():
    ORDINALS[f"{_stem}ieth"] = _n
    for _i, _w in enumerate(_UNITS[1:], start=1):
        ORDINALS[f"{_stem}y-{_w}"] = _n + _i
        ORDINALS[f"{_stem}y {_w}"] = _n + _i
_ORDINAL_WORD = re.compile(r"\b(" + "|".join(sorted(map(re.escape, ORDINALS), key=len, reverse=True)) + r")\b")
_ORDINAL_NUM = re.compile(r"\b(\d{1,3})(?:st|nd|rd|th)\b")
_SYMBOL = re.compile(r"\b[a-z]{1,3}(?:/[a-z0-9.\-]+){2,}\b")  # UN document symbols: s/2025/496, a/45/696/add.1
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
_EDITION_WORDS = re.compile(
    r"\b(?:updated?|update|edition|ed|revised|revision|rev|version|v|amended|consolidated|january|february|march|"
    r"april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|"
    r"dec|report|annual|no|number)\b"
)
MIN_WORDS = 3


def edition_ordinal(title: str) -> int | None:
    """The ordinal an edition's title carries ('Twenty-first report' -> 21, '36th report' -> 36), if any."""
    t = fold(title)
    m = _ORDINAL_WORD.search(t)
    if m:
        return ORDINALS[m.group(1)]
    m = _ORDINAL_NUM.search(t)
    return int(m.group(1)) if m else None


def family_key(title: str, publisher: str | None, series: str | None = None) -> str | None:
    """The family a document belongs to: its series when given, else publisher + title without edition marks."""
    if series and series.strip():
        return "series:" + " ".join(re.findall(r"\w+", fold(series)))
    t = fold(title)
    t = _SYMBOL.sub(" ", t)
    t = _ORDINAL_WORD.sub(" ", t)
    t = _ORDINAL_NUM.sub(" ", t)
    t = _YEAR.sub(" ", t)
    t = _EDITION_WORDS.sub(" ", t)
    words = [w for w in re.findall(r"[^\W\d_]+", t) if len(w) > 1 or w.isalpha() and w not in {"s", "a", "e"}]
    if len(words) < MIN_WORDS:
        return None
    pub = " ".join(re.findall(r"\w+", fold(publisher or "")))
    return f"{pub}|{' '.join(words)}"


def edition_rank(title: str, year: int | None, edition: str | None = None) -> float:
    """A number that orders editions of one family: year, then the ordinal in the title (or a manifest edition)."""
    ordinal: float | None = None
    if edition and edition.strip():
        m = re.search(r"\d+(?:\.\d+)?", edition)
        ordinal = float(m.group()) if m else None
    if ordinal is None:
        found = edition_ordinal(title)
        ordinal = float(found) if found is not None else 0.0
    return float(year or 0) + min(ordinal, 999.0) / 1000.0


_QUERY_YEAR = re.compile(r"\b((?:19|20)\d{2})\b")
_BEFORE = re.compile(r"\b(?:before|prior to|until|pre|previous|earlier|older|former|old)\b")
_NAMED_EDITION = re.compile(r"\b(?:edition|version|revision|previous|earlier|older|former|old)\b")


def query_edition(query: str) -> tuple[int | None, bool, bool]:
    """What a query says about editions: (a year it names, whether it asks for what came before, whether it names
    an edition at all). 'Before the 2025 overhaul' -> (2025, True, True); 'current FATF rules' ->
    (None, False, False)."""
    q = fold(query)
    m = _QUERY_YEAR.search(q)
    before = bool(_BEFORE.search(q))
    named = bool(m) or bool(_NAMED_EDITION.search(q)) or bool(_ORDINAL_WORD.search(q)) or bool(_ORDINAL_NUM.search(q))
    return (int(m.group(1)) if m else None), before, named
