"""Evidence for "no good answer": how much of a query the visible corpus knows and the best passages cover,
IDF-weighted, and the judgement drawn from it; the same document frequencies decide which query terms are too common
to keep in a BM25 query over a large store."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from functools import lru_cache

from pactkb.index.fold import fold_word, passage_words, porter_stem, query_terms

NO_EVIDENCE = {"known": 0.0, "coverage": 0.0}


def query_stems(query: str) -> dict[str, str]:
    """Each query term with its Porter stem (the form the full-text index counts)."""
    return {t: porter_stem(t) for t in query_terms(query)}


@lru_cache(maxsize=65536)
def word_stem(word: str) -> str:
    """A word of a passage as the full-text index counts it: folded, Porter-stemmed (cached: passages share words)."""
    return porter_stem(fold_word(word))


def measure(stems: Mapping[str, str], df: Mapping[str, int], n: int, top_texts: Iterable[str]) -> dict[str, float]:
    """'known': the share of the query's IDF mass (over n chunks, df per stem) that the corpus holds at all;
    'coverage': the share the top passages' words hold."""
    if not stems:
        return dict(NO_EVIDENCE)
    n = max(1, n)
    idf = {t: math.log(1 + n / (1 + df.get(stem, 0))) for t, stem in stems.items()}
    total = sum(idf.values())
    words = frozenset().union(*map(passage_words, top_texts))  # each distinct word stemmed once
    seen = set(map(word_stem, words))
    return {
        "known": round(sum(v for t, v in idf.items() if df.get(stems[t], 0) > 0) / total, 4),
        "coverage": round(sum(v for t, v in idf.items() if stems[t] in seen) / total, 4),
    }


def judge(evidence: Mapping[str, float], known_floor: float, coverage_floor: float) -> bool | None:
    """True when the corpus knows the query's words (known >= known_floor) but the best passages do not cover them
    (coverage < coverage_floor); None when most of the query is vocabulary the corpus does not know (e.g. another
    language): then nobody can tell."""
    if evidence["known"] < known_floor:
        return None
    return evidence["coverage"] < coverage_floor


def too_common(terms: list[str], df: Mapping[str, int], n: int, share: float) -> set[str]:
    """Query terms in more than `share` of n chunks (df per Porter stem); the two rarest are always kept."""
    if len(terms) <= 2:
        return set()
    by_df = sorted(terms, key=lambda t: df.get(porter_stem(t), 0))
    return {t for t in by_df[2:] if df.get(porter_stem(t), 0) > share * n}
