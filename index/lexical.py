"""BM25 over chunk text and titles with SQLite FTS5; text and queries are folded (č→c, Cyrillic→Latin)."""

from __future__ import annotations

import re
import sqlite3

from pactkb.index.filters import Filters
from pactkb.index.fold import STOPWORDS, fold, query_terms, stem_word

_PHRASE = re.compile(r'"([^"]+)"')
_PREFIX = re.compile(r"(\w{3,})\*")


def build_match(query: str, drop: set[str] | frozenset[str] = frozenset(), stemmers: tuple[str, ...] = ()) -> str | None:
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


def lexical_search(
    con: sqlite3.Connection, query: str, k: int, filters: Filters, title_weight: float = 1.0,
    drop: set[str] | frozenset[str] = frozenset(), stemmers: tuple[str, ...] = (),
) -> list[tuple[int, float]]:
    """Top-k (chunk id, BM25 score; higher is better) among chunks whose documents pass the filters."""
    expr = build_match(query, drop, stemmers)
    if expr is None:
        return []
    if filters.is_empty():
        sql = ("SELECT rowid, -bm25(chunks_fts, ?, 1.0) AS s FROM chunks_fts WHERE chunks_fts MATCH ? "
               "ORDER BY s DESC LIMIT ?")
        params: list[object] = [title_weight, expr, k]
    else:
        where, wparams = filters.sql("d")
        sql = ("SELECT f.rowid, -bm25(chunks_fts, ?, 1.0) AS s FROM chunks_fts f "
               "JOIN chunks c ON c.id = f.rowid JOIN documents d ON d.id = c.doc_id "
               f"WHERE chunks_fts MATCH ? AND {where} ORDER BY s DESC LIMIT ?")
        params = [title_weight, expr, *wparams, k]
    try:
        return [(int(r[0]), float(r[1])) for r in con.execute(sql, params)]
    except sqlite3.OperationalError as exc:  # malformed expression: fall back to plain terms
        if "fts5" not in str(exc).lower() and "syntax" not in str(exc).lower():
            raise
        terms = query_terms(query)
        if not terms:
            return []
        return lexical_search(con, " ".join(terms), k, filters, title_weight)
