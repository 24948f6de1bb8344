"""Snippets: a window of the chunk with the query terms highlighted (<mark>), HTML-escaped."""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat

from pactkb.index.fold import fold_word, index_word, passage_words, stem_word, thread_stemmer

WIDTH = 260
_WORD = re.compile(r"\w+", re.UNICODE)
_SENTENCE = re.compile(r"(?<=[.!?;])\s+(?=[A-ZÀ-ŽА-Я0-9(\"'])")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Folded, stemmed form of the word the keyword index reads (`index_word`: 'customs' is not 'customer')."""
    return thread_stemmer("english").stemWord(index_word(fold_word(word)))


@dataclass
class Snippet:
    """HTML snippet, whether any query term matched, and the matched char spans in the chunk."""

    html: str
    matched: bool
    spans: list[tuple[int, int]]


class TermMatcher:
    """Finds the words of texts whose stem equals a query term's stem (English, or one of the query language's Snowball
    stemmers: Serbian 'finansiranju' highlights 'finansiranje'). Each distinct word is decided once per matcher, so
    one matcher serves every passage of a result page."""

    def __init__(self, terms: list[str], stemmers: tuple[str, ...] = ()) -> None:
        """The stems wanted, in English and in each stemmer's language."""
        self.wanted = {stem(t) for t in terms if t}
        self.wanted.discard("")
        self.local = [(a, {stem_word(t, a) for t in terms if t}) for a in stemmers]
        self.decided: dict[str, bool] = {}  # each word decided so far: whether it matches
        self.terms: set[str] = set()  # the words that match

    def is_term(self, word: str) -> bool:
        """Whether a word of a text matches a query term."""
        hit = self.decided.get(word)
        if hit is None:
            hit = stem(word) in self.wanted or any(stem_word(word, a) in own for a, own in self.local)
            self.decided[word] = hit
            if hit:
                self.terms.add(word)
        return hit

    def decide(self, words: Iterable[str]) -> None:
        """Decide new words at once, as is_term would one by one (the stems through their caches, by map)."""
        new = list(words)
        hits = {w for w, st in zip(new, map(stem, new), strict=True) if st in self.wanted}
        for algorithm, own in self.local:
            hits.update(w for w, st in zip(new, map(stem_word, new, repeat(algorithm)), strict=True) if st in own)
        self.decided.update(dict.fromkeys(new, False))
        self.decided.update(dict.fromkeys(hits, True))
        self.terms |= hits

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Char spans of the matching words in text: its distinct words not seen before are decided (set operations
        for the rest), then the matching ones found by substring search where they stand as a whole \\w+ run (a
        Python step per match, not per word)."""
        out: list[tuple[int, int]] = []
        words = passage_words(text)
        self.decide(words - self.decided.keys())
        for word in words & self.terms:
            i = text.find(word)
            while i >= 0:
                j = i + len(word)
                if (i == 0 or not is_word_char(text[i - 1])) and (j == len(text) or not is_word_char(text[j])):
                    out.append((i, j))
                i = text.find(word, j)
        out.sort()
        return out


def is_word_char(char: str) -> bool:
    """Whether a character belongs to a \\w+ run (Unicode letters and digits, and the underscore)."""
    return char.isalnum() or char == "_"


def matches(text: str, terms: list[str], stemmers: tuple[str, ...] = ()) -> list[tuple[int, int]]:
    """Char spans of words in text whose stem equals a query term's stem (see TermMatcher)."""
    return TermMatcher(terms, stemmers).spans(text)


def render(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> str:
    """Escaped text[start:end] with spans wrapped in <mark>, ellipses where cut."""
    out = ["…" if start > 0 else ""]
    pos = start
    for a, b in spans:
        if a < start or b > end:
            continue
        out.append(html.escape(text[pos:a]))
        out.append(f"<mark>{html.escape(text[a:b])}</mark>")
        pos = b
    out.append(html.escape(text[pos:end]))
    out.append("…" if end < len(text) else "")
    return "".join(out)


def _window(text: str, center: int, width: int) -> tuple[int, int]:
    """A window of about `width` chars around `center`, widened to word boundaries."""
    start = max(0, center - width // 3)
    end = min(len(text), start + width)
    start = max(0, end - width)
    if start > 0:
        sp = text.find(" ", start)
        start = sp + 1 if 0 <= sp < start + 30 else start
    if end < len(text):
        sp = text.rfind(" ", end - 30, end)
        end = sp if sp > 0 else end
    return start, end


def lexical_snippet(
    text: str,
    terms: list[str],
    width: int = WIDTH,
    stemmers: tuple[str, ...] = (),
    matcher: TermMatcher | None = None,
) -> Snippet:
    """The window holding the most distinct query terms, highlighted (`matcher`: one shared by a page's passages,
    made from `terms` and `stemmers`)."""
    spans = (matcher or TermMatcher(terms, stemmers)).spans(text)
    if not spans:
        start, end = 0, min(len(text), width)
        if end < len(text):
            sp = text.rfind(" ", 0, end)
            end = sp if sp > 0 else end
        return Snippet(render(text, start, end, []), False, [])
    best, best_score = spans[0][0], -1
    keys = [stem(text[x:y]) for x, y in spans]
    inside: Counter[str] = Counter()  # distinct terms of the spans that start within width of spans[i] (sliding)
    j = 0
    for i, (a, _) in enumerate(spans):
        while j < len(spans) and spans[j][0] < a + width:
            inside[keys[j]] += 1
            j += 1
        if len(inside) > best_score:
            best, best_score = a, len(inside)
        inside[keys[i]] -= 1
        if not inside[keys[i]]:
            del inside[keys[i]]
    start, end = _window(text, best, width)
    return Snippet(render(text, start, end, spans), True, spans)


def sentences(text: str, limit: int = 8) -> list[tuple[int, int]]:
    """Char spans of up to `limit` sentences of a chunk."""
    out: list[tuple[int, int]] = []
    pos = 0
    for m in _SENTENCE.finditer(text):
        if m.start() > pos:
            out.append((pos, m.start()))
        pos = m.end()
        if len(out) >= limit:
            break
    if pos < len(text) and len(out) < limit:
        out.append((pos, len(text)))
    return out


@lru_cache(maxsize=65536)
def word_trigrams(word: str) -> frozenset[str]:
    """Character trigrams of one folded word (none if it folds to fewer than 3 chars; cached per word)."""
    w = fold_word(word)
    return frozenset(w[i : i + 3] for i in range(len(w) - 2))


def trigrams(text: str) -> set[str]:
    """Character trigrams of the folded words of a text (for cheap cross-form matching)."""
    return set().union(*map(word_trigrams, _WORD.findall(text)))


def closest_sentence(text: str, spans: list[tuple[int, int]], query: str) -> tuple[int, int]:
    """The sentence sharing the most character trigrams with the query (cognates, inflections, partial words)."""
    q = trigrams(query)
    if not q:
        return spans[0]
    grams = [trigrams(text[a:b]) for a, b in spans]
    scores = [len(q & g) / (len(q) ** 0.5 * max(1, len(g)) ** 0.5) for g in grams]
    return spans[max(range(len(spans)), key=scores.__getitem__)]


def sentence_snippet(text: str, span: tuple[int, int], width: int = WIDTH) -> Snippet:
    """A snippet that starts at the chosen sentence (the best match) and runs on for `width` chars."""
    a, _ = span
    end = min(len(text), a + width)
    if end < len(text):
        sp = text.rfind(" ", end - 30, end)
        end = sp if sp > a else end
    return Snippet(render(text, a, end, []), False, [])
