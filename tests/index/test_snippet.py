"""Snippets (index/snippet.py): the highlighted window is the one holding the most distinct query terms, found in
one pass over the matches."""

from __future__ import annotations

import random
import re

from pactkb.index.fold import fold
from pactkb.index.snippet import (
    WIDTH,
    TermMatcher,
    _window,
    lexical_snippet,
    matches,
    render,
    stem,
    stem_word,
    trigrams,
)

WORDS = "cash couriers border money laundering finansiranje terorizma granica gotovina the of and smuggling".split()


def brute_force(text: str, terms: list[str], stemmers: tuple[str, ...] = ()) -> str:
    """The snippet as defined: every window start tried, the first with the most distinct stems kept."""
    spans = matches(text, terms, stemmers)
    best, best_score = spans[0][0], -1
    for a, _ in spans:
        inside = {stem(text[x:y]) for x, y in spans if a <= x < a + WIDTH}
        if len(inside) > best_score:
            best, best_score = a, len(inside)
    start, end = _window(text, best, WIDTH)
    return render(text, start, end, spans)


def test_the_window_with_most_distinct_terms_is_found_in_one_pass() -> None:
    rng = random.Random(5)
    for _ in range(300):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 400)))
        terms = rng.sample(["cash", "couriers", "laundering", "finansiranju", "granici", "smuggled"], 3)
        stemmers = ("serbian",) if rng.random() < 0.5 else ()
        snip = lexical_snippet(text, terms, stemmers=stemmers)
        if snip.matched:
            assert snip.html == brute_force(text, terms, stemmers)


def test_matches_stem_each_word_in_the_query_language_too() -> None:
    text = "Finansiranje terorizma: couriers carried cash; finansiranja i granica."
    spans = matches(text, ["finansiranju", "courier"], ("serbian",))
    assert [text[a:b] for a, b in spans] == ["Finansiranje", "couriers", "finansiranja"]
    assert [text[a:b] for a, b in matches(text, ["courier"])] == ["couriers"]


def word_by_word(text: str, terms: list[str], stemmers: tuple[str, ...]) -> list[tuple[int, int]]:
    """The spans as defined: every \\w+ run of the text whose stem is a query term's stem."""
    wanted = {stem(t) for t in terms} - {""}
    local = {a: {stem_word(t, a) for t in terms} for a in stemmers}
    return [
        m.span()
        for m in re.finditer(r"\w+", text)
        if stem(m.group()) in wanted or any(stem_word(m.group(), a) in own for a, own in local.items())
    ]


def test_a_shared_matcher_finds_every_matching_word_run_and_decides_each_word_once() -> None:
    rng = random.Random(7)
    vocabulary = [*WORDS, "cash-couriers", "couriers'", "Finansiranju", "(cash)", "kašа", "smuggling."]
    vocabulary += ["cash_flow", "2cash", "finansiranju,cash"]  # \w+ runs: underscores and digits join, commas split
    matcher = TermMatcher(["cash", "finansiranju", "smuggle"], ("serbian",))
    for _ in range(200):
        text = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(0, 80)))
        assert matcher.spans(text) == word_by_word(text, ["cash", "finansiranju", "smuggle"], ("serbian",))
        assert matcher.spans(text) == matches(text, ["cash", "finansiranju", "smuggle"], ("serbian",))
    assert set(matcher.decided) == {w for v in vocabulary for w in re.findall(r"\w+", v)}
    assert matcher.decided["cash"] and matcher.decided["Finansiranju"] and not matcher.decided["border"]


def word_by_word_trigrams(text: str) -> set[str]:
    """The trigrams as defined: every folded word of 3+ chars, every 3-char slice of it."""
    out: set[str] = set()
    for word in re.findall(r"\w+", text):
        w = fold(word)
        out.update(w[i : i + 3] for i in range(len(w) - 2))
    return out


def test_trigrams_cached_per_word_equal_the_word_by_word_definition() -> None:
    rng = random.Random(11)
    vocabulary = [*WORDS, "Финансирање", "Granični", "pranje", "novca", "Zakon", "ÇËŠ", "a", "of", "x1", "ĐŽ"]
    for _ in range(200):
        text = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(0, 60))) + rng.choice(["", ".", " 12"])
        assert trigrams(text) == word_by_word_trigrams(text)
    assert trigrams("Финансирање") == {fold("Финансирање")[i : i + 3] for i in range(len(fold("Финансирање")) - 2)}
    assert trigrams("a of") == set()
