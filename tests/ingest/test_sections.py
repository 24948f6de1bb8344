"""Section paths from outlines and detected headings."""

from pactkb.ingest.sections import SectionIndex, detect_headings, headings_from_outline
from pactkb.ingest.types import Heading


def test_section_path_nests_by_level():
    idx = SectionIndex([Heading(1, "2. Cash", 3, 0), Heading(2, "2.1 Couriers", 3, 100), Heading(1, "3. NPOs", 5, 0)])
    assert idx.path_at(3, 50) == "2. Cash"
    assert idx.path_at(4, 0) == "2. Cash > 2.1 Couriers"
    assert idx.path_at(5, 10) == "3. NPOs"
    assert idx.path_at(1, 0) == ""


def test_outline_junk_dropped_and_offsets_located():
    pages = ["Front matter", "Intro text\n2. Cash couriers\nCash remains"]
    heads = headings_from_outline(
        [(1, "Front Cover October 2025", 1), (1, "report.pdf", 1), (1, "2. Cash couriers", 2)], pages
    )
    assert [h.title for h in heads] == ["2. Cash couriers"]
    assert pages[1][heads[0].offset :].startswith("2. Cash couriers")


def test_detected_headings_numbered_caps_and_keyword():
    page = (
        "1. Introduction\nThese guidelines describe practice.\nANNEX ON VIRTUAL ASSETS\nArticle 5 Definitions\n"
        "1. Countries should identify, assess, and\nunderstand the risks."
    )
    heads = detect_headings([page])
    titles = [h.title for h in heads]
    assert "1. Introduction" in titles and "ANNEX ON VIRTUAL ASSETS" in titles and "Article 5 Definitions" in titles
    assert not any(t.startswith("1. Countries") for t in titles)


def test_markdown_headings():
    heads = detect_headings(["# Насоки\n\ntext\n\n## 2. Контролирана испорака\n\nmore"], markdown=True)
    assert [(h.level, h.title) for h in heads] == [(1, "Насоки"), (2, "2. Контролирана испорака")]


def test_footnotes_are_not_headings():
    page = (
        "7 S/2024/556, para. 94; see reference sources cited at www.un.org\n12 Ibid., p. 4\n3. Risk Assessment\nText."
    )
    assert [h.title for h in detect_headings([page])] == ["3. Risk Assessment"]


def test_lines_set_like_headings_are_joined_only_where_they_carry_on():
    """Typography: each squashed line set large maps to its size; consecutive lines of one size join when the first
    ends on a connective or the next starts in lower case, or both are capitals, but not two headings in a row."""
    page = (
        "INTERNATIONAL STANDARDS\nON COMBATING MONEY LAUNDERING\n"
        "F – POWERS AND RESPONSIBILITIES OF COMPETENT AUTHORITIES\nRegulation and Supervision\n"
        "Body text of the standards follows here."
    )
    big = {_key(line): 14.0 for line in page.split("\n")[:2]}
    big |= {_key("F – POWERS AND RESPONSIBILITIES OF COMPETENT AUTHORITIES"): 12.0}
    big |= {_key("Regulation and Supervision"): 12.0}
    heads = detect_headings([page], typography=[(big, {_key("Body text of the standards follows here.")})])
    assert [h.title for h in heads] == [
        "INTERNATIONAL STANDARDS ON COMBATING MONEY LAUNDERING",
        "F – POWERS AND RESPONSIBILITIES OF COMPETENT AUTHORITIES",
        "Regulation and Supervision",
    ]
    assert [h.offset for h in heads] == [0, page.index("F –"), page.index("Regulation")]


def test_figure_labels_are_not_headings_but_dates_and_numbers_in_titles_are():
    lines = [
        "Total Unique Victims 16610 16554",
        "2021 Form of Trafficking 2020 2021",
        "10 Kazakhstan 4.65",
        "United Nations S/2025/496",
        "Letter dated 1 May 2025 from the Secretary-General",
        "4.1 Action point 1 – Finalising structural elements",
        "Risk Factors/Vulnerabilities",
    ]
    page = "\n".join(lines)
    heads = detect_headings([page], typography=[({_key(line): 14.0 for line in lines}, set())])
    assert [h.title for h in heads] == lines[4:]


def test_a_contents_list_led_by_page_numbers_and_an_imprint_line_give_no_headings():
    """A cover listing '1 Summary', '3 Form & Typology', ... (page numbers first, rising with gaps) is a contents
    list: its entries would otherwise head every later page ('24 Force, Fraud, and Coercion > ...')."""
    cover = ["Analysis of Data from the National", "Hotline", "1 Summary", "3 Form & Typology", "6 Demographics"]
    cover += ["11 Age at Entry", "24 Force"]
    imprint = "PDF | ISBN 978-92-95236-23-3 | DOI: 10.2813/158794"
    body = ["1 Introduction", "Text of the introduction.", "2 Scope", "Text.", "3 Method", "Text.", "4 Results"]
    typography = {_key(line): 14.0 for line in [*cover, imprint, *body] if not line.startswith("Text")}
    heads = detect_headings(["\n".join([*cover, imprint]), "\n".join(body)], typography=[(typography, set())] * 2)
    assert [h.title for h in heads] == [
        "Analysis of Data from the National Hotline",  # a cover's title lines join, whatever their case
        "1 Introduction",
        "2 Scope",
        "3 Method",
        "4 Results",
    ]


def test_joining_keeps_separate_headings_apart_and_long_or_unfinished_runs_out():
    """Review cases: 'Annex A' does not end on the article 'a'; a contents title is not the second line of a capitals
    heading; a joined run ending on a colon is no heading; a run too long for a title keeps its first line and no
    later part of it becomes one; an abbreviation's stop is no sentence end; a numbered heading set like a heading
    may hold 'AML/CFT' and keeps its number's level."""
    lines = [
        "Report text opens the page (a cover's title lines would all join).",
        "Annex A",
        "List of Abbreviations",
        "PART III: SPECIALIST GUIDANCE",
        "CONTENTS",
        "This guidance should be read alongside the Office of Financial Sanctions Implementation",
        "guide to financial sanctions, available at:",
        "Mutual Evaluation Report of St. Vincent and",
        "the Grenadines",
        "Twenty-first report of the Secretary-General on the threat",
        "posed by ISIL (Da’esh) to international peace and security and the range of",
        "United Nations efforts in support of Member States in countering the threat and",
        "the impacts on the ground and the long tail of effects upon affected populations in",
        "the wider region and beyond the region into the neighbouring States",
        "1. Background",
        "2. Overview of AML/CFT colleges",
        "Body text of the report follows here.",
    ]
    big = {_key(line): 14.0 for line in lines[1:-1]}
    heads = detect_headings(["\n".join(lines)], typography=[(big, {_key(lines[0]), _key(lines[-1])})])
    assert [(h.title, h.level) for h in heads] == [
        ("Annex A", 1),
        ("List of Abbreviations", 1),
        ("PART III: SPECIALIST GUIDANCE", 1),
        ("CONTENTS", 1),
        ("Mutual Evaluation Report of St. Vincent and the Grenadines", 1),
        ("Twenty-first report of the Secretary-General on the threat", 1),
        ("1. Background", 1),
        ("2. Overview of AML/CFT colleges", 1),
    ]


def test_numbers_of_resolutions_and_years_written_with_a_stop_are_not_figures():
    lines = [
        "A. Security Council resolutions 2199 (2015) and 2462 (2019) on the financing of terrorism",
        "Implementation of resolution 1373",
        "Strategija za period od 2020. do 2024. godine",
        "Total Unique Victims 16610 16554",
    ]
    heads = detect_headings(["\n".join(lines)], typography=[({_key(line): 14.0 for line in lines}, set())])
    assert [h.title for h in heads] == lines[:3]


def _key(line: str) -> str:
    """A line as the typography maps key it (lower case, no whitespace)."""
    return "".join(line.split()).lower()
