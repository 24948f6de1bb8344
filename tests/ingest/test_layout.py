"""Layout regions: footnotes kept out of the body, contents pages recognised, numbered paragraphs not headings
(each PDF test runs with both page-text extractors, PDFium and pypdf)."""

from __future__ import annotations

from pactkb.ingest.chunk import chunk_pages
from pactkb.ingest.parse import ParseOptions, parse_file
from pactkb.ingest.regions import page_region
from pactkb.ingest.sections import SectionIndex, headings_from_outline, strip_note_mark
from tests.ingest.conftest import read_by

BODY_1 = (
    "Deepfake videos are increasingly used in fraud against companies and public officials, and the "
    "number found online doubled every six months.^20 Investigators should preserve the original file, "
    "its metadata and the platform records before any analysis, and document each step of the "
    "examination so that the evidence can be"
)
BODY_2 = (
    "presented in court without doubt about its integrity. Specialised detection tools compare facial "
    "movements, lighting and compression artefacts."
)
NOTE_20 = (
    "20 Sensity, How to Detect a Deepfake Online: Image Forensics and Analysis of Deepfake Videos, 2021, "
    "accessed on 10 March 2022."
)
NOTE_21 = "21 Europol Innovation Lab, Facing reality, 2022."


def words(text: str) -> str:
    """Whitespace-normalised text."""
    return " ".join(text.split())


def test_a_footnote_is_cut_out_of_the_body_and_not_glued_into_the_sentence_it_interrupts(make_pdf, opts: ParseOptions):
    path = make_pdf(
        "deepfakes.pdf",
        [
            [("h1", "Criminal use of deepfakes"), BODY_1, ("fn", NOTE_20), ("fn", NOTE_21)],
            [BODY_2],
        ],
        outline=False,
    )
    doc = read_by(parse_file(path, opts))
    page1 = doc.pages[0]
    assert "Sensity" not in page1.text and "Sensity" in page1.notes
    assert "Europol Innovation Lab" in page1.notes
    assert "months. Investigators" in words(page1.text)  # the superscript mark 20 is gone from the body
    chunks = chunk_pages(doc.pages, SectionIndex(doc.headings), lambda t: len(t.split()), max_tokens=200)
    body = [c for c in chunks if c.region == "body"]
    notes = [c for c in chunks if c.region == "footnote"]
    assert notes and all(c.page_start == c.page_end == 1 for c in notes)
    assert any("Sensity" in c.text for c in notes)
    joined = " ".join(c.text for c in body)
    assert "Sensity" not in joined
    assert "the evidence can be presented in court" in words(joined)  # the sentence reads on across the page break
    assert [c.ord for c in chunks] == list(range(len(chunks)))
    assert doc.pages[0].full_text.endswith(page1.notes)


def test_a_contents_page_is_recognised_and_gives_no_headings(make_pdf, opts: ParseOptions):
    toc = [
        ("h1", "Contents"),
        *[
            ("toc", f"{n}. {t}|{p}")
            for n, (t, p) in enumerate(
                [
                    ("Introduction", 3),
                    ("Risk assessment", 5),
                    ("Customer due diligence", 9),
                    ("Record keeping", 14),
                    ("Suspicious transaction reports", 18),
                    ("International co-operation", 23),
                ],
                start=1,
            )
        ],
    ]
    path = make_pdf(
        "guide.pdf",
        [
            toc,
            [("h1", "1. Introduction"), "This guidance explains how supervisors apply a risk-based approach " * 4],
        ],
        outline=False,
    )
    doc = read_by(parse_file(path, opts))
    assert doc.pages[0].region == "contents"
    assert doc.pages[1].region == "body"
    titles = [h.title for h in doc.headings]
    assert "2. Risk assessment" not in " ".join(titles)
    assert any(t.startswith("1. Introduction") for t in titles)
    chunks = chunk_pages(doc.pages, SectionIndex(doc.headings), lambda t: len(t.split()), max_tokens=200)
    assert {c.region for c in chunks if c.page_start == 1} == {"contents"}
    assert {c.region for c in chunks if c.page_start == 2} == {"body"}


def test_numbered_body_paragraphs_are_not_headings_and_note_marks_are_stripped(make_pdf, opts: ParseOptions):
    path = make_pdf(
        "un-report.pdf",
        [
            [
                ("h2", "A. Overview and evolution of the threat^4"),
                "17. On behalf of the Counter-Terrorism Committee the Chair briefed Member States on the",
                "26. In Uganda, the authorities disrupted a cell that planned attacks during the",
                "Further text of the report continues here with more detail about the threat and its evolution.",
                ("fn", "4 More information may be found in the thirty-sixth report of the Monitoring Team."),
            ],
            [
                ("h2", "B. The violence experienced by victims during their trajectories.i"),  # a note letter (UNODC)
                "Further text of the report continues here with more detail about the victims and their routes.",
            ],
        ],
        outline=False,
    )
    doc = read_by(parse_file(path, opts))
    titles = [h.title for h in doc.headings]
    assert "A. Overview and evolution of the threat" in titles
    assert "B. The violence experienced by victims during their trajectories" in titles, titles
    assert not any(t.startswith(("17.", "26.")) for t in titles), titles
    assert not any("thirty-sixth" in t for t in titles)


def test_a_heading_wrapped_over_lines_is_one_heading_and_large_type_prose_or_figures_are_none(
    make_pdf, opts: ParseOptions
):
    """UN reports wrap long headings ('H. Countering terrorist narratives and engaging with communities to' / 'prevent
    and counter violent extremism'); hotline reports set pull quotes, introductions and chart totals in heading-size
    type ('Our data shows that ... by someone they' / 'know, ...'; 'Total Unique Victims 16610 16554')."""
    body = "Member States reported progress in engaging with communities and religious leaders. " * 3
    path = make_pdf(
        "report.pdf",
        [
            [
                ("h2", "H. Countering terrorist narratives and engaging with communities to"),
                ("h2", "prevent and counter violent extremism conducive to terrorism"),
                body,
                ("h2", "4.2 Action point 2 – Enhancing the quality of discussions during the"),
                ("h2", "AML/CFT college meetings"),
                body,
            ],
            [
                ("h2", "This report presents data from the national hotline operated by"),
                ("h2", "the project. Please refer to the tables for more detailed information"),
                ("h2", "Our data shows that trafficking victims are generally recruited by someone they"),
                "know, such as a family member or caregiver, an intimate partner or an employer.",
                ("h2", "Total Unique Victims 16610 16554"),
                ("h2", "Letter dated 1 May 2025 from the Secretary-General"),
                body,
            ],
        ],
        outline=False,
    )
    doc = read_by(parse_file(path, opts))
    titles = [h.title for h in doc.headings]
    assert titles == [
        "H. Countering terrorist narratives and engaging with communities to prevent and counter violent extremism "
        "conducive to terrorism",
        "4.2 Action point 2 – Enhancing the quality of discussions during the AML/CFT college meetings",
        "Letter dated 1 May 2025 from the Secretary-General",
    ], titles
    chunks = chunk_pages(doc.pages, SectionIndex(doc.headings), lambda t: len(t.split()), max_tokens=60)
    assert chunks[0].section.endswith("prevent and counter violent extremism conducive to terrorism")


def test_strip_note_mark_keeps_numbers_that_are_part_of_a_title():
    assert strip_note_mark("Overview and evolution of the threat4") == "Overview and evolution of the threat"
    assert strip_note_mark("Recommendation 16") == "Recommendation 16"
    assert strip_note_mark("COVID-19") == "COVID-19"
    assert strip_note_mark("A.  Legal persons51F") == "A.  Legal persons"  # Word's bookmark of a noted heading
    assert strip_note_mark("Annex 4F") == "Annex 4F" and strip_note_mark("Form 8300F") == "Form 8300F"
    assert strip_note_mark("HUMAN TRAFFICKING RESPONSE GUIDEfor School Resource Officers") == (
        "HUMAN TRAFFICKING RESPONSE GUIDE for School Resource Officers"  # a DHS guide's bookmark
    )
    assert strip_note_mark("IDs for the CDD of PEPs and NGOs") == "IDs for the CDD of PEPs and NGOs"
    assert strip_note_mark("3. The violence experienced during their trajectories.i") == (
        "3. The violence experienced during their trajectories"  # a footnote letter after the stop, and the stop
    )
    assert strip_note_mark("Article 5 (e.g. a)") == "Article 5 (e.g. a)" and strip_note_mark("U.S.A") == "U.S.A"
    assert strip_note_mark("Notes on data.") == "Notes on data." and strip_note_mark("Part 2.b") == "Part 2.b"


def test_outline_headings_lose_a_glued_footnote_mark():
    """Bookmarks keep a heading's footnote reference ('Supervisory arrangements230F' in the FATF Methodology, 'A.
    Legal persons51F' in the Basel guidelines): the section path does not."""
    pages = ["Annex 4\nA. Legal persons 51\nText about legal persons.", "B. Legal arrangements\nMore text."]
    headings = headings_from_outline([(1, "A.  Legal persons51F", 1), (1, "B. Legal arrangements52F", 2)], pages)
    assert [(h.title, h.page) for h in headings] == [("A.  Legal persons", 1), ("B. Legal arrangements", 2)]
    assert headings[0].offset == pages[0].index("A. Legal")


def test_page_regions_of_plain_text():
    index = "\n".join(
        f"{w}, {i}, {i + 7}"
        for i, w in enumerate(
            ["beneficial owner", "cash couriers", "correspondent banking", "due diligence", "hawala", "shell company"],
            start=3,
        )
    )
    refs = "References\n" + "\n".join(
        f"Author {i}, A. ({2010 + i}). Title of study {i}. Journal of Financial Crime, vol. {i}, pp. 1-20."
        for i in range(6)
    )
    body = "Supervisors should apply a risk-based approach.\n" * 6
    assert page_region(index) == "index"
    assert page_region(refs) == "references"
    assert page_region(body) == "body"


ACRONYM_LINES = [
    "AML Anti-Money Laundering",
    "CDD Customer Due Diligence",
    "DeFi Decentralised finance",
    "FIU Financial intelligence unit",
    "MT202COV Cover payment message",
    "VASP Virtual Asset Service Provider",
]


def test_a_list_of_acronyms_is_its_own_region_but_names_and_capital_headings_are_not():
    assert page_region("Acronyms\n" + "\n".join(ACRONYM_LINES)) == "acronyms"
    assert page_region("4 TABLE OF ACRONYMS\n" + "\n".join(ACRONYM_LINES[:3]) + "\nText.\nMore text.") == "acronyms"
    assert page_region("\n".join(ACRONYM_LINES)) == "acronyms"  # a list's second page, untitled
    names = "Study Contributors\n" + "\n".join(f"Danett Williams{i}\nMegan Malone{i}" for i in range(3))
    assert page_region(names) == "body"
    assert page_region(
        "ML TYPOLOGIES\nAML Anti-Money Laundering\n" + "Supervisors apply a risk-based approach.\n" * 5
    ) == ("body")


def test_a_pdfs_acronym_page_gives_acronym_passages(make_pdf, opts: ParseOptions):
    path = make_pdf("acr.pdf", [["Acronyms", *ACRONYM_LINES], ["Supervisors should apply a risk-based approach. " * 8]])
    doc = parse_file(path, opts)
    assert [p.region for p in doc.pages] == ["acronyms", "body"]


FATF_NOTE_13 = (
    "^13 FATF, Guidance on Transparency and Beneficial Ownership, 2014, p. 8, and the Interpretive Note to R.24."
)
FATF_NOTE_14 = "^14 See, in particular, Question 3 of the Horizontal Study at Annex B."


def test_footnotes_set_at_nine_tenths_of_the_body_with_raised_marks_are_cut_out_of_pdfium_text(make_pdf):
    body = (
        "Further guidance on the definition of beneficial owner is available in the FATF Guidance on Transparency "
        "and Beneficial Ownership.^13 The Horizontal Study^14 found that information on ownership is often missing. "
    )
    path = make_pdf(
        "fatf.pdf",
        [[body * 3, ("fn", FATF_NOTE_13), ("fn", FATF_NOTE_14)], [body]],
        font_size=10.5,
        note_size=9.45,  # 0.9 of the body, as FATF sets its notes
        outline=False,
    )
    doc = read_by(parse_file(path, ParseOptions(pdf_text="pdfium")))
    page1 = doc.pages[0]
    assert "Horizontal Study at Annex B" in page1.notes and "Annex B" not in page1.text
    assert "Interpretive Note to R.24" in words(page1.notes)
    assert "Beneficial Ownership. The Horizontal Study found" in words(page1.text)  # marks 13, 14 stripped
    assert not doc.pages[1].notes


def test_a_last_body_line_set_a_little_smaller_without_a_note_mark_stays_body(make_pdf, opts: ParseOptions):
    path = make_pdf(
        "small-last-line.pdf",
        [[BODY_1.replace("^20", ""), ("fn", "Source: Europol Innovation Lab, 2022, figures for the whole of Europe.")]],
        note_size=9.45,
        outline=False,
    )
    doc = read_by(parse_file(path, opts))
    assert "Europol Innovation Lab" in doc.pages[0].text and not doc.pages[0].notes


def test_a_note_number_hanging_in_the_margin_opens_its_note_in_pdfium_text(make_pdf):
    body = (
        "Stablecoins share many of the risks of other virtual assets^7 and their design may change over time as "
        "the arrangement evolves.^8 Countries should assess these risks before launch. "
    )
    path = make_pdf(
        "fatf-2021.pdf",
        [
            [
                body * 3,
                ("fn", "^7 In paragraphs 37-41, further information on peer-to-peer transactions."),
                ("fn", "^8 In paragraphs 86-90, which entities have obligations in a stablecoin arrangement."),
            ]
        ],
        font_size=10.5,
        note_size=9.45,  # 0.9 of the body
        note_indent=12,  # the number at the margin, the note's text 12 pt to its right (FATF 2021)
        outline=False,
    )
    page = read_by(parse_file(path, ParseOptions(pdf_text="pdfium"))).pages[0]
    assert "peer-to-peer" not in page.text and "stablecoin arrangement" not in page.text
    assert page.notes.split("\n") == [
        "7 In paragraphs 37-41, further information on peer-to-peer transactions.",
        "8 In paragraphs 86-90, which entities have obligations in a stablecoin arrangement.",
    ]


def test_a_notes_last_line_that_looks_like_a_number_stays_in_the_note_and_the_page_number_goes(make_pdf):
    note = (
        "^28 Annex 4, General Guide to Account Opening, pages 29 to 39 of the Basel Committee on Banking Supervision "
        "guidance on Sound management of risks related to money laundering and financing of terrorism as revised and "
        "extended to money or value transfer services (February 2016)."
    )
    body = "Registries of beneficial ownership are mentioned in the General Guide on Account Opening.^28 "
    path = make_pdf("fatf-2016.pdf", [[body * 4, ("fn", note)], [body]], note_size=9.45, outline=False)
    page = read_by(parse_file(path, ParseOptions(pdf_text="pdfium"))).pages[0]
    assert page.notes.split("\n")[-2:] == [
        "financing of terrorism as revised and extended to money or value transfer services (February",
        "2016).",  # one word with digits and no lower-case letter, yet it closes the note, unlike the page number 1
    ]
    assert "2016" not in page.text


def test_small_type_at_the_foot_opening_with_a_year_is_not_a_footnote_in_pdfium_text(make_pdf):
    letter = (
        "1995, which requested the Secretary-General to submit to the Council reports from the High Representative "
        "in accordance with Annex 10 of the General Framework Agreement for Peace in Bosnia and Herzegovina."
    )
    path = make_pdf("letter.pdf", [[BODY_2 * 3, ("fn", letter)]], outline=False)
    page = read_by(parse_file(path, ParseOptions(pdf_text="pdfium"))).pages[0]
    assert "General Framework Agreement" in page.text and not page.notes  # a year, not note number 199
