"""Language values people type, read as ISO 639-1 codes (ingest/language.py: language_code, unknown_language)."""

import pytest

from pactkb.ingest.language import language_code, unknown_language


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("sr", "sr"),
        ("SR", "sr"),
        (" hr ", "hr"),
        ("srp", "sr"),  # ISO 639-2/T and 639-3
        ("alb", "sq"),  # ISO 639-2/B
        ("mkd", "mk"),
        ("sr-Latn", "sr"),  # a tag with a script or region
        ("bs_BA", "bs"),
        ("Serbian", "sr"),
        ("croatian", "hr"),
        ("Greek", "el"),  # the detector's short name (ISO's is "Modern Greek (1453-)")
        ("sh", None),  # Serbo-Croatian as one language (a withdrawn ISO 639-1 code): which of sr, hr, bs is asked
        ("hbs", None),
        ("Serbo-Croatian", None),
        ("cnr", None),  # Montenegrin: no two-letter code
        ("Montenegrin", None),
        ("Shona", "sn"),  # not caught by the Serbo-Croatian names
        ("srb", None),  # ISO 639-3 for Sora, a language with no two-letter code: the "sr" typo is not taken
        ("xx", None),
        ("tlh", None),
        ("srpski", None),  # names in the languages themselves are not in ISO's English tables
        ("", None),
    ],
)
def test_typed_languages_become_iso_639_1_codes(typed, code):
    assert language_code(typed) == code


def test_unknown_language_lists_the_given_languages_with_names():
    message = unknown_language("srb", {"sr", "en", "x-old"})
    assert message.startswith("unknown language 'srb'")
    assert "the documents you may see are in: en (English), sr (Serbian), x-old" in message
    assert "documents you may see" not in unknown_language("srb", set())


@pytest.mark.parametrize("typed", ["sh", "hbs", "Serbo-Croatian", "cnr", "cnr-ME", "Montenegrin"])
def test_serbo_croatian_as_one_language_or_montenegrin_asks_for_sr_hr_or_bs(typed):
    message = unknown_language(typed, {"sr", "en"})
    assert "use sr (Serbian), hr (Croatian) or bs (Bosnian)" in message and message.startswith(repr(typed))
    assert message.endswith("the documents you may see are in: en (English), sr (Serbian)")
