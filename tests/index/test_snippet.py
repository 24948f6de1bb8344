"""Snippets (index/snippet.py): the highlighted window is the one holding the most distinct query terms, found in
one pass over the matches."""

from __future__ import annotations

import random

from pactkb.index.snippet import WIDTH, _window, lexical_snippet, matches, render, stem

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
