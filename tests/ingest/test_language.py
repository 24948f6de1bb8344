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
        ("sh", "sh"),  # Serbo-Croatian: a (deprecated) ISO 639-1 code
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
