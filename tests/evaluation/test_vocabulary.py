"""The field vocabulary lists (evaluation/vocabulary): well formed, and rendered by the translator as the field says."""

import pytest

from pactkb.evaluation.vocabulary import carries, check, list_paths, load_terms, summary
from pactkb.index.dictionary import FIELD_GLOSSARIES
from pactkb.index.translate import Translator


def test_every_list_loads_and_the_hbs_lists_are_full():
    counts = {p.stem: len(load_terms(p)) for p in list_paths()}
    assert counts["hr"] >= 170 and counts["sr"] >= 130 and counts["bs"] >= 90


def test_a_term_passes_when_one_alternative_is_carried_by_stem():
    assert carries("suspicious transactions reported", ("suspicious transaction", "report"))
    assert not carries("proper data", ("personal data",))


@pytest.mark.parametrize(("language", "floor"), [("hr", 0.9), ("sr", 0.87), ("bs", 0.86)])
def test_apertium_and_the_field_glossary_render_the_hbs_lists(language, floor):
    """Apertium with the field glossary alone (no dictionaries, no corpus) carries the listed English of most terms:
    the glossary's legal-register entries and the restoration of words typed without diacritics (2026.12.11) hold."""
    translator = Translator("apertium", 10.0, [FIELD_GLOSSARIES])

    def render(text: str, lang: str) -> str:
        rendering = translator.render(text, lang)
        return "" if rendering is None else " ".join(rendering.words(lambda word: []))

    rate = summary(check(render, [t for p in list_paths(languages=[language]) for t in load_terms(p)]))[language]
    assert rate["rate"] >= floor
