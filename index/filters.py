"""Search filters, applied inside retrieval: the store turns them into its queries (index/store.py), the dense
index into FAISS selectors."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, replace
from typing import Any

from pactkb.ingest.language import language_code, unknown_language
from pactkb.ingest.manifest import (
    normalize_area,
    normalize_doc_type,
    unknown_area,
    unknown_doc_type,
)
from pactkb.settings import SENSITIVITY_LEVELS

# The one filter vocabulary of GET/POST /search, /documents, /chunks/{id}/similar, the CLI's --filter and the
# page's URLs: public name -> Filters field. A filter repeats for OR; year is a year or a range
# (2020-2025, 2020-, -2025).
FILTER_NAMES = {
    "type": "doc_types",
    "area": "areas",
    "language": "languages",
    "publisher": "publishers",
    "document": "document_ids",
    "year": "year",
    "sensitivity": "sensitivities",
    "current": "current_only",
}
# Old names, still accepted for one release (callers are told so): old name -> the name to use instead.
DEPRECATED_FILTERS = {
    "doc_type": "type",
    "lang": "language",
    "doc": "document",
    "document_id": "document",
    "year_min": "year",
    "year_from": "year",
    "year_max": "year",
    "year_to": "year",
}
_OLD_FIELDS = {"year_min": "year_min", "year_from": "year_min", "year_max": "year_max", "year_to": "year_max"}
FILTER_KEYS = {
    **FILTER_NAMES,
    **{old: _OLD_FIELDS.get(old, FILTER_NAMES[new]) for old, new in DEPRECATED_FILTERS.items()},
}
_YEAR_SOURCES = "_year_sources"  # from_mapping's note of which filter name set each year bound
_TRUE, _FALSE = {"true", "yes", "1", "on"}, {"false", "no", "0", "off"}
# The languages of the documents a caller may see (asked only when a language value is not an ISO 639-1 code: a
# value the corpus holds as it is stays valid, and an error lists them, never a document the caller may not see).
CorpusLanguages = Callable[[], Iterable[str | None]]


class FilterError(ValueError):
    """A filter is unknown or has an invalid value; the message names it (and `field` holds its name)."""

    def __init__(self, message: str, field: str = "filters", reason: str | None = None) -> None:
        """Keep the offending filter's name and what is wrong with it (the message without the name, for callers
        that name the field themselves, as the API's `filters.<name>`)."""
        super().__init__(message)
        self.field = field
        self.reason = reason or message

    @classmethod
    def bad_value(cls, raw_key: str, reason: str) -> FilterError:
        """A filter whose value is wrong: "filter 'type': <reason>"."""
        return cls(f"filter {raw_key!r}: {reason}", raw_key, reason)


@dataclass(frozen=True)
class Filters:
    """Document-level constraints; values within a field are OR-ed, fields are AND-ed."""

    doc_types: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    publishers: tuple[str, ...] = ()
    document_ids: tuple[str, ...] = ()
    year_min: int | None = None
    year_max: int | None = None
    sensitivities: tuple[str, ...] = ()
    clearance: str | None = None  # the highest sensitivity the caller may see (None = everything)
    current_only: bool = False  # leave out editions superseded by a newer one the caller may see

    def is_empty(self) -> bool:
        """True when nothing is restricted."""
        restricting = any(getattr(self, f.name) not in (None, (), False) for f in fields(self) if f.name != "clearance")
        return not restricting and self.clearance in (None, SENSITIVITY_LEVELS[-1])

    def facet_filtered(self) -> bool:
        """True when a facet (type, area, language, year, publisher) is filtered."""
        return bool(
            self.doc_types
            or self.areas
            or self.languages
            or self.publishers
            or self.year_min is not None
            or self.year_max is not None
        )

    def without_facets(self) -> Filters:
        """The same filters minus the facet ones (visibility, documents and sensitivity kept)."""
        return replace(self, doc_types=(), areas=(), languages=(), publishers=(), year_min=None, year_max=None)

    def admits(self, hit: Any, skip: str = "") -> bool:
        """Whether a hit passes the facet filters, ignoring the facet named `skip`."""
        checks = {
            "doc_type": not self.doc_types or hit.doc_type in self.doc_types,
            "area": not self.areas or bool(set(hit.areas or []) & set(self.areas)),
            "language": not self.languages or (hit.language or "").lower() in {x.lower() for x in self.languages},
            "publisher": not self.publishers or (hit.publisher or "").lower() in {x.lower() for x in self.publishers},
            "year": (self.year_min is None or (hit.year is not None and hit.year >= self.year_min))
            and (self.year_max is None or (hit.year is not None and hit.year <= self.year_max)),
        }
        return all(ok for facet, ok in checks.items() if facet != skip)

    def with_clearance(self, clearance: str | None) -> Filters:
        """The same filters for a caller with this clearance."""
        return replace(self, clearance=clearance)

    def key(self) -> str:
        """A stable cache key."""
        return repr(tuple(getattr(self, f.name) for f in fields(self)))

    @classmethod
    def from_mapping(cls, values: dict[str, Any], languages: CorpusLanguages | None = None) -> Filters:
        """Build from {key: value or [values]} using the public filter names; raise FilterError on bad input.
        `languages`: the languages of the documents the caller may see, for the language filter's values and hint."""
        acc: dict[str, Any] = {}
        held = _Held(languages)
        for raw_key, raw in values.items():
            key = FILTER_KEYS.get(raw_key.strip().lower())
            if key is None:
                raise FilterError(f"unknown filter {raw_key!r} (allowed: {', '.join(FILTER_NAMES)})", raw_key)
            items = raw if isinstance(raw, (list, tuple)) else [raw]
            for item in items:
                if item is None or str(item).strip() == "":
                    continue
                _add(acc, key, raw_key, str(item).strip(), held)
        acc.pop(_YEAR_SOURCES, None)
        fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in acc.items()}
        return cls(**fields)

    @classmethod
    def parse(cls, pairs: list[str], languages: CorpusLanguages | None = None) -> Filters:
        """Build from CLI-style 'key=value' strings (repeat a key for OR); `languages` as in from_mapping."""
        values: dict[str, list[str]] = {}
        for pair in pairs:
            if "=" not in pair:
                raise FilterError(f"filter {pair!r} must look like key=value (e.g. type=guideline)", pair)
            key, value = pair.split("=", 1)
            values.setdefault(key, []).append(value)
        return cls.from_mapping(values, languages)


class _Held:
    """The corpus languages a caller may see, lower-cased, asked for at most once (and only if needed)."""

    def __init__(self, languages: CorpusLanguages | None) -> None:
        """Keep the question; ask it later."""
        self._ask = languages
        self._held: frozenset[str] | None = None

    def __call__(self) -> frozenset[str]:
        """The languages (none when nobody said)."""
        if self._held is None:
            self._held = frozenset(x.strip().lower() for x in (self._ask() if self._ask else ()) if x and x.strip())
        return self._held


def _language(raw_key: str, value: str, held: _Held) -> str:
    """The stored language a filter value means: an ISO 639-1 code as it is, a value the visible corpus holds as it
    is, else the code of an ISO 639-2/3 code, tag or English name ("SR", "srp", "sr-Latn", "Serbian" -> "sr"); a
    FilterError listing the visible corpus's languages for anything else."""
    typed = value.lower()
    code = language_code(value)
    if code == typed or typed in held():
        return typed
    if code is None:
        raise FilterError.bad_value(raw_key, unknown_language(value, held()))
    return code


def deprecated_filters(names: Iterable[str]) -> dict[str, str]:
    """The old filter names among these, each with the name to use instead."""
    return {n: DEPRECATED_FILTERS[n.strip().lower()] for n in names if n.strip().lower() in DEPRECATED_FILTERS}


def deprecation_note(old: str, new: str) -> str:
    """One line telling a caller what to use instead of an old filter name."""
    hint = "year=2020-2025 (or 2020, 2020-, -2025)" if new == "year" else f"{new}=..."
    return f"{old!r} is deprecated and will be removed in the next release: use {hint}"


def _tighten(acc: dict[str, Any], key: str, year: int, raw_key: str) -> None:
    """Set a year bound; where another filter name set it already, keep the tighter one (year=2024- with
    year_min=2000: a year must meet both); the same name given again replaces its value, as before."""
    sources: dict[str, str] = acc.setdefault(_YEAR_SOURCES, {})
    acc[key] = tighter_year(key, acc.get(key) if sources.get(key) != raw_key else None, year)
    sources[key] = raw_key


def tighter_year(key: str, *years: int | None) -> int | None:
    """The tightest of the year bounds given (the latest `year_min`, the earliest `year_max`; None when none is)."""
    given = [y for y in years if y is not None]
    if not given:
        return None
    return max(given) if key == "year_min" else min(given)


def _year(raw_key: str, value: str) -> int:
    """A year value or a FilterError naming the filter."""
    if not re.fullmatch(r"\d{4}", value):
        raise FilterError.bad_value(raw_key, f"{value!r} is not a year (use 2020, or a range 2020-2025, 2020-, -2025)")
    return int(value)


def _add(acc: dict[str, Any], key: str, raw_key: str, value: str, held: _Held) -> None:
    """Validate one filter value and add it to the accumulator."""
    if key == "year":
        m = re.fullmatch(r"(\d{4})?\s*(?:-|\.\.)\s*(\d{4})?", value)
        if m and (m.group(1) or m.group(2)):
            if m.group(1) and m.group(2) and int(m.group(1)) > int(m.group(2)):
                raise FilterError.bad_value(raw_key, f"{value!r} ends before it starts")
            if m.group(1):
                _tighten(acc, "year_min", int(m.group(1)), raw_key)
            if m.group(2):
                _tighten(acc, "year_max", int(m.group(2)), raw_key)
        else:
            year = _year(raw_key, value)
            _tighten(acc, "year_min", year, raw_key)
            _tighten(acc, "year_max", year, raw_key)
        return
    if key in ("year_min", "year_max"):
        _tighten(acc, key, _year(raw_key, value), raw_key)
        return
    if key == "current_only":
        if value.lower() not in _TRUE | _FALSE:
            raise FilterError.bad_value(raw_key, f"{value!r} is not true or false")
        acc[key] = value.lower() in _TRUE
        return
    if key == "doc_types":
        norm = normalize_doc_type(value)
        if norm is None:
            raise FilterError.bad_value(raw_key, unknown_doc_type(value))
        value = norm
    elif key == "areas":
        norm = normalize_area(value)
        if norm is None:
            raise FilterError.bad_value(raw_key, unknown_area(value))
        value = norm
    elif key == "languages":
        value = _language(raw_key, value, held)
    elif key == "sensitivities" and value not in SENSITIVITY_LEVELS:
        raise FilterError.bad_value(raw_key, f"{value!r} is not one of {', '.join(SENSITIVITY_LEVELS)}")
    acc.setdefault(key, [])
    if value not in acc[key]:
        acc[key].append(value)
