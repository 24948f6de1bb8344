"""Text cleaning: hyphenation, running headers/footers, page numbers, Unicode, diacritics."""

from pactkb.ingest.clean import clean_pages, dehyphenate, is_page_number, normalize_unicode, strip_running_lines


def test_hyphenated_line_breaks_are_joined():
    assert dehyphenate("the finan-\ncing of terrorism") == "the financing of terrorism"


def test_hyphen_kept_when_document_spells_the_word_with_one():
    vocab = {"anti-money", "laundering"}
    assert dehyphenate("anti-\nmoney laundering", vocab) == "anti-money laundering"


def test_capitalised_continuation_is_not_joined():
    assert dehyphenate("Bosnia-\nHerzegovina") == "Bosnia-\nHerzegovina"


def test_running_headers_footers_and_page_numbers_removed():
    topics = ["cash couriers", "non-profit outreach", "virtual assets", "joint analysis cells", "crowdfunding"]
    pages = [
        f"EU CT Partnership · Guidelines 2023\nChapter on {t}.\nPractitioners report that {t} matter.\n{i}"
        for i, t in enumerate(topics, start=1)
    ]
    cleaned = strip_running_lines(pages)
    for i, (page, t) in enumerate(zip(cleaned, topics, strict=False), start=1):
        assert "EU CT Partnership" not in page
        assert f"Chapter on {t}." in page and f"Practitioners report that {t} matter." in page
        assert not page.strip().endswith(f"\n{i}")


def test_header_with_changing_page_number_is_removed():
    pages = [f"Annual report 2024 — page {i} of 5\nContent {i}" for i in range(1, 6)]
    assert all("Annual report" not in p for p in strip_running_lines(pages))


def test_bare_page_number_patterns():
    for s in ["12", "- 12 -", "Page 3 of 9", "iv", "str. 5"]:
        assert is_page_number(s), s
    assert not is_page_number("12 member states agreed")


def test_unicode_nfc_ligatures_and_diacritics_kept():
    decomposed = "Sluz\u030cba"  # s + combining caron
    text = normalize_unicode(f"{decomposed} \ufb01nancing \u00ad služba đorđe Ђорђе ćevap")
    assert "Služba" in text
    assert "financing" in text
    assert "\u00ad" not in text
    assert "đorđe" in text and "Ђорђе" in text and "ćevap" in text


def test_clean_pages_keeps_one_entry_per_page_and_collapses_whitespace():
    pages = ["A  line\t with   spaces\n\n\n\nNext", "", "Third page"]
    cleaned = clean_pages(pages)
    assert len(cleaned) == 3
    assert cleaned[0] == "A line with spaces\n\nNext"
    assert cleaned[1] == ""
