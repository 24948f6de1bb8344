"""What a search returns: hits (a passage with its document, pages, snippet and scores) and result pages."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any, Literal


class SearchError(ValueError):
    """A search request cannot be answered as asked (bad mode, unknown chunk, beyond the result window...)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        """The problem, and the request field it concerns when there is one."""
        super().__init__(message)
        self.field = field


@lru_cache(maxsize=4096)
def parse_areas(text: str | None) -> tuple[str, ...]:
    """A document's areas from their stored JSON list (cached by the text: a search reads a few hundred rows, most of
    them of documents whose areas it parsed before)."""
    return tuple(json.loads(text or "[]"))


@dataclass
class Hit:
    """One result: a passage with its document, exact pages, snippet and scores."""

    chunk_id: int
    document_id: str
    score: float
    text: str | None  # None until loaded: search fetches texts only for the hits it returns
    title: str
    file: str
    page_start: int
    page_end: int
    label_start: str | None
    label_end: str | None
    section: str
    publisher: str | None
    year: int | None
    doc_type: str
    language: str | None
    areas: list[str]
    sensitivity: str
    dense_score: float | None = None
    lexical_score: float | None = None
    snippet: str = ""
    region: str = "body"  # body, footnote, contents, index, references, front or acronyms (ingest/regions.py)
    superseded_by: dict[str, Any] | None = None  # the newest edition of this document's family the caller may see
    section_pages: tuple[int, int] | None = None  # first and last page of the passage's section
    rank: int = 0
    also_in: list[dict[str, Any]] = field(default_factory=list)
    more_pages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def page_label(self) -> str | None:
        """Printed page label(s), e.g. 'iv' or '12–13', when the PDF defines labels."""
        if not self.label_start:
            return None
        if self.label_end and self.label_end != self.label_start:
            return f"{self.label_start}–{self.label_end}"
        return self.label_start

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the `pactkb search --json` result shape plus metadata)."""
        d = asdict(self)
        d["page_label"] = self.page_label
        return d

    @classmethod
    def from_row(
        cls,
        row: Mapping[str, Any],
        score: float,
        dense: float | None,
        lexical: float | None,
    ) -> Hit:
        """A Hit from a store hit row (index/store.py hit_rows)."""
        return cls(  # positional, in field order: twice as fast as by keyword, for the few hundred candidates
            row["id"],
            row["doc_id"],
            score,
            row["text"],
            row["title"],
            row["source_name"],
            row["page_start"],
            row["page_end"],
            row["label_start"],
            row["label_end"],
            row["section"],
            row["publisher"],
            row["year"],
            row["doc_type"],
            row["language"],
            list(parse_areas(row["areas"])),
            row["sensitivity"],
            dense,
            lexical,
            "",  # snippet
            row["region"],
        )

    def also_entry(self) -> dict[str, Any]:
        """How this hit is listed under the result it folds into as a near-duplicate ('also in')."""
        return {
            "document_id": self.document_id,
            "title": self.title,
            "file": self.file,
            "chunk_id": self.chunk_id,
            "page_start": self.page_start,
            "page_end": self.page_end,
            "year": self.year,
        }


@dataclass
class SearchResult:
    """A page of results with timing, total (exact or a lower bound: total_relation), facets and the no-good-answer
    flag."""

    query: str
    mode: str
    took_ms: float
    total: int
    offset: int
    k: int
    results: list[Hit]
    facets: dict[str, dict[str, int]]
    best_dense: float | None = None
    total_relation: Literal["eq", "gte"] = "eq"  # "eq": total is exact; "gte": a lower bound (more lie deeper)
    no_good_answer: bool | None = None
    evidence: dict[str, float] | None = None
    language: str | None = None
    translation: list[str] = field(default_factory=list)  # English words the query was also searched with
    expansion: list[str] = field(default_factory=list)  # field synonyms and acronyms the query was also searched with
    timings: dict[str, float] | None = None  # ms per search stage and in total (index/profile.py)
