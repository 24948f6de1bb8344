"""BM25 over chunk text and titles: the LexicalIndex protocol, the query shape every implementation runs, the tokens
they index, SQLite FTS5 (`Fts5Index`) and the factory (`lexical_index`; tantivy in index/tantivy_index.py). Text and
queries are folded (č→c, Cyrillic→Latin) and stemmed (index/fold.py)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from pactkb.index.filters import Filters
from pactkb.index.fold import STOPWORDS, fold, porter_stem, protect, query_terms, stem_word
from pactkb.index.store import MatchSyntaxError, Store

_PHRASE = re.compile(r'"([^"]+)"')
_PREFIX = re.compile(r"(\w{3,})\*")
_COMPOUND = re.compile(r"\w+(?:-\w+)+")  # hyphenated words: 'de-risking', 'non-conviction', 'cross-border'
_WORD = re.compile(r"[^\W_]+")  # unicode61's tokens: runs of letters and digits ...
_PRIVATE = re.compile(r"[\ue000-\uf8ff]")  # ... and of private-use characters (PDF symbol fonts)
_TOKEN = re.compile(r"(?:[^\W_]|[\ue000-\uf8ff])+")
DF_CAP = 2000  # document frequencies above this change the IDF little; counting stops there


@dataclass(frozen=True)
class LexicalQuery:
    """A query as every lexical index runs it: an OR of quoted phrases, prefixes and words, all folded; `stems` are
    the words stemmed in the query's language (they match documents indexed by that stemmer)."""

    phrases: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()
    stems: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        """True when nothing is left to match."""
        return not (self.phrases or self.prefixes or self.terms or self.stems)


def parse_query(
    query: str, drop: set[str] | frozenset[str] = frozenset(), stemmers: tuple[str, ...] = ()
) -> LexicalQuery:
    """The query's folded phrases ("..."; a hyphenated word with a stopword part is also searched as the phrase of its
    parts, so 'de-risking' keeps its 'de'), prefixes (word*, three letters or more) and other terms (stopwords left out
    beside a phrase or prefix, `drop` left out), and with Snowball stemmers each word's stem in those languages."""
    quoted = _PHRASE.findall(query)
    rest = _PHRASE.sub(" ", query)
    phrases = [" ".join(re.findall(r"\w+", fold(p))) for p in [*quoted, *compounds_losing_a_part(rest)]]
    prefixes = [fold(p) for p in _PREFIX.findall(rest)]
    rest = _PREFIX.sub(" ", rest)
    terms = [t for t in query_terms(rest) if t not in drop]
    if phrases or prefixes:
        terms = [t for t in terms if t not in STOPWORDS]
    stems: list[str] = []
    if stemmers:
        raw = [w for w in re.findall(r"\w+", rest) if fold(w) in terms]
        stems = [stem_word(w, algorithm) for algorithm in stemmers for w in raw]
    return LexicalQuery(
        tuple(dict.fromkeys(p for p in phrases if p)),
        tuple(dict.fromkeys(prefixes)),
        tuple(dict.fromkeys(terms)),
        tuple(dict.fromkeys(s for s in stems if s not in terms)),
    )


def compounds_losing_a_part(text: str) -> list[str]:
    """Hyphenated words of a query with a part that is a stopword alone ('de-risking', 'al-Hol'): as plain terms they
    would lose that part and match only the rest. Others ('cross-border') keep both parts as terms: a phrase for them
    too lost nDCG@10 on ObliQA dev (-0.0025 over the split; this rule +0.0001)."""
    return [c for c in _COMPOUND.findall(text) if any(fold(w) in STOPWORDS for w in re.findall(r"\w+", c))]


def fts5_match(q: LexicalQuery) -> str | None:
    """The FTS5 MATCH expression of a parsed query (None when it is empty)."""
    parts = [f'"{protect(p)}"' for p in q.phrases] + [f'"{protect(p)}"*' for p in q.prefixes]
    parts += [f'"{protect(t)}"' for t in (*q.terms, *q.stems)]
    parts = list(dict.fromkeys(parts))
    return " OR ".join(parts) if parts else None


def build_match(
    query: str, drop: set[str] | frozenset[str] = frozenset(), stemmers: tuple[str, ...] = ()
) -> str | None:
    """An FTS5 MATCH expression: OR of folded terms, quoted phrases kept as phrases, trailing * as prefix. With
    Snowball stemmers (the query's language), each word also matches its stem (documents in it are indexed by stem)."""
    return fts5_match(parse_query(query, drop, stemmers))


def index_tokens(folded: str) -> list[str]:
    """The tokens FTS5's tokenizer ('porter unicode61 remove_diacritics 2') makes of folded text: runs of letters and
    digits, each Porter-stemmed (words of 3 to 64 characters). Other engines index these same tokens."""
    pattern = _TOKEN if _PRIVATE.search(folded) else _WORD  # the simpler pattern is twice as fast
    return list(map(porter_token, pattern.findall(folded)))


@lru_cache(maxsize=262144)
def porter_token(token: str) -> str:
    """A token as FTS5's porter step leaves it (cached: vocabularies are small compared with texts). FTS5 follows
    Porter's reference C code, which departs from the published algorithm (Snowball's 'porter') in step 2:
    -bli → -ble and -logi → -log where the rest has a measure above 0 (not after step 5 took a final e)."""
    token = token.lower()
    if not 3 <= len(token.encode()) <= 64:
        return token
    stem = porter_stem(token)
    if token.endswith("e"):
        return stem
    if stem.endswith("bli") and porter_measure(stem[:-3]) > 0:
        return porter_stem(stem[:-1] + "e")
    return stem[:-1] if stem.endswith("logi") and porter_measure(stem[:-4]) > 0 else stem


def porter_measure(stem: str) -> int:
    """Porter's m: how many vowel-consonant sequences a stem has (y after a consonant is a vowel)."""
    m, prev_vowel = 0, False
    for i, ch in enumerate(stem):
        vowel = ch in "aeiou" or (ch == "y" and i > 0 and stem[i - 1] not in "aeiou")
        m += int(prev_vowel and not vowel)
        prev_vowel = vowel
    return m


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

    def sync(self, con: sqlite3.Connection | None = None) -> int:
        """Bring the index up to the store's state now (searches also do, first); returns the chunks (re)indexed."""


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

    def sync(self, con: sqlite3.Connection | None = None) -> int:
        """Nothing to do: the store writes FTS5's rows with the chunks, in the same transaction."""
        return 0


def _tantivy(store: Store) -> LexicalIndex:
    """tantivy's BM25 (index/tantivy_index.py), imported only when chosen."""
    from pactkb.index.tantivy_index import TantivyIndex

    return TantivyIndex(store)


LEXICAL_INDEXES: dict[str, Callable[[Store], LexicalIndex]] = {"fts5": Fts5Index, "tantivy": _tantivy}


def lexical_index(store: Store, kind: str = "tantivy") -> LexicalIndex:
    """The lexical index of a kind (LEXICAL_INDEXES, chosen by PACTKB_LEXICAL) over a store."""
    try:
        make = LEXICAL_INDEXES[kind]
    except KeyError:
        raise ValueError(f"unknown lexical index {kind!r} (known: {', '.join(LEXICAL_INDEXES)})") from None
    return make(store)
