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


def _report_pages(n: int, top: dict[int, str]) -> list[str]:
    """n pages of distinct body text and a page number; page i (1-based) headed by top[i] when given."""
    topics = ["cash couriers", "mixers", "privacy coins", "peel chains", "mule accounts", "chargebacks"]
    pages = []
    for i in range(1, n + 1):
        t = topics[i % len(topics)]
        body = f"Indicator {i}: transfers through {t} in case {i * 7}.\n{t.capitalize()} were traced by analysts."
        pages.append(f"{top[i]}\n{body}\n{i}" if i in top else f"{body}\n{i}")
    return pages


def test_headers_alternating_between_left_and_right_pages_are_removed():
    # as in FATF's red-flag report: each variant heads 9 of 24 pages (cover and chapter openers have none),
    # below the all-pages threshold (10) but on most of the odd (or of the even) pages
    plain = {1, 2, 7, 8, 15, 16}
    top = {i: "VIRTUAL ASSETS RED FLAG INDICATORS" if i % 2 else "FATF REPORT 2020" for i in range(1, 25)}
    pages = _report_pages(24, {i: h for i, h in top.items() if i not in plain})
    assert strip_running_lines(pages, by_parity=True) == strip_running_lines(_report_pages(24, {}))
    assert sum("FATF REPORT" in p for p in strip_running_lines(pages)) == 9  # opt-in: off, as before


def test_heading_repeated_on_a_few_alternate_pages_is_kept():
    top = dict.fromkeys([3, 5, 9, 11], "Recommendation 16")
    cleaned = strip_running_lines(_report_pages(24, top), by_parity=True)
    assert [i for i, p in enumerate(cleaned, start=1) if p.startswith("Recommendation 16")] == [3, 5, 9, 11]


def test_line_below_the_edge_of_alternate_pages_is_kept():
    # on every odd page, but under a three-line running header: body text, not a running line
    pages = _report_pages(24, dict.fromkeys(range(1, 25, 2), "Case one\nCase two\nCase three\nKey findings"))
    cleaned = strip_running_lines(pages, by_parity=True)
    assert [p.split("\n")[0] for p in cleaned[0::2]] == ["Key findings"] * 12


def test_short_document_is_judged_over_all_its_pages_only():
    # two odd pages of six share a first line: too little of the document to call it a running header
    cleaned = strip_running_lines(_report_pages(6, dict.fromkeys([1, 3], "Risk indicators")), by_parity=True)
    assert [p.startswith("Risk indicators") for p in cleaned] == [True, False, True, False, False, False]
