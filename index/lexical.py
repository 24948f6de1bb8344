"""BM25 over chunk text and titles with SQLite FTS5; text and queries are folded (č→c, Cyrillic→Latin)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from typing import Protocol

from pactkb.index.filters import Filters
from pactkb.index.fold import STOPWORDS, fold, query_terms, stem_word
from pactkb.index.store import MatchSyntaxError, Store

_PHRASE = re.compile(r'"([^"]+)"')
_PREFIX = re.compile(r"(\w{3,})\*")
DF_CAP = 2000  # document frequencies above this change the IDF little; counting stops there


def build_match(
    query: str, drop: set[str] | frozenset[str] = frozenset(), stemmers: tuple[str, ...] = ()
) -> str | None:
    """An FTS5 MATCH expression: OR of folded terms, quoted phrases kept as phrases, trailing * as prefix. With
    Snowball stemmers (the query's language), each word also matches its stem (documents in it are indexed by stem)."""
    phrases = [" ".join(re.findall(r"\w+", fold(p))) for p in _PHRASE.findall(query)]
    rest = _PHRASE.sub(" ", query)
    prefixes = [fold(p) for p in _PREFIX.findall(rest)]
    rest = _PREFIX.sub(" ", rest)
    parts = [f'"{p}"' for p in phrases if p]
    parts += [f'"{p}"*' for p in prefixes]
    terms = [t for t in query_terms(rest) if t not in drop]
    if phrases or prefixes:
        terms = [t for t in terms if t not in STOPWORDS]
    parts += [f'"{t}"' for t in terms]
    if stemmers:
        raw = [w for w in re.findall(r"\w+", rest) if fold(w) in terms]
        parts += [f'"{stem_word(w, algorithm)}"' for algorithm in stemmers for w in raw]
    parts = list(dict.fromkeys(parts))
    return " OR ".join(parts) if parts else None


class LexicalIndex(Protocol):
    """What search needs of a full-text index over the chunks: ranked matches under filters, and how many chunks
    hold a term (for IDF). Its rows are written with the chunks, in the store's transactions."""

    def search(
        self,
        query: str,
        k: int,
        filters: Filters,
        title_weight: float = 1.0,
        drop: set[str] | frozenset[str] = frozenset(),
        stemmers: tuple[str, ...] = (),
        con: sqlite3.Connection | None = None,
    ) -> list[tuple[int, float]]:
        """Top-k (chunk id, score; higher is better) among chunks whose documents the filters admit; `drop`: query
        terms to leave out, `stemmers`: Snowball algorithms the query's words are also stemmed with."""

    def term_counts(self, stems: list[str], filters: Filters, con: sqlite3.Connection | None = None) -> dict[str, int]:
        """Chunks the filters admit that contain each (Porter-stemmed) term, capped at DF_CAP."""


class Fts5Index:
    """BM25 through SQLite FTS5, in the store's own database (index/store.py keeps its rows with the chunks)."""

    def __init__(self, store: Store) -> None:
        """Search the store's full-text index."""
        self.store = store

    def search(
        self,
        query: str,
        k: int,
        filters: Filters,
        title_weight: float = 1.0,
        drop: set[str] | frozenset[str] = frozenset(),
        stemmers: tuple[str, ...] = (),
        con: sqlite3.Connection | None = None,
    ) -> list[tuple[int, float]]:
        """Top-k (chunk id, BM25 score; higher is better) among chunks whose documents pass the filters; a query FTS5
        cannot parse is searched again as its plain terms."""
        expr = build_match(query, drop, stemmers)
        if expr is None:
            return []
        try:
            return self.store.fts_search(expr, k, filters, title_weight, con)
        except MatchSyntaxError:
            terms = query_terms(query)
            if not terms:
                return []
            return self.search(" ".join(terms), k, filters, title_weight, con=con)

    def term_counts(self, stems: list[str], filters: Filters, con: sqlite3.Connection | None = None) -> dict[str, int]:
        """Chunks containing each term among those the filters admit (counting stops at DF_CAP)."""
        return self.store.fts_term_counts(stems, filters, DF_CAP, con)


LEXICAL_INDEXES: dict[str, Callable[[Store], LexicalIndex]] = {"fts5": Fts5Index}


def lexical_index(store: Store, kind: str = "fts5") -> LexicalIndex:
    """The lexical index of a kind (LEXICAL_INDEXES) over a store."""
    try:
        return LEXICAL_INDEXES[kind](store)
    except KeyError:
        raise ValueError(f"unknown lexical index {kind!r} (known: {', '.join(LEXICAL_INDEXES)})") from None
