"""The search page in a real browser: search, facets, PDF links, upload, access control, empty states,
the document page, keyboard use, phone width and the strings table.

Run: .venv/bin/python -m pytest -q tests/e2e   (screenshots: test-output/screenshots/)
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from pactkb.corpus.pdfgen import DocSpec, PageSpec, build_pdf
from pactkb.ingest.types import AREAS, DOC_TYPES

from .conftest import PHONE, LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

WEB = Path(__file__).resolve().parents[2] / "api" / "web"
CFT = "Good Practice Guidelines on Countering the Financing of Terrorism"
SOCTA = "Serious and Organised Crime Threat Assessment"
SEARCH_API = re.compile(r"/search\?")


# -- helpers ---------------------------------------------------------------------------------------
def goto(page: Page, path: str) -> None:
    """Open a page URL and wait until the app has rendered it."""
    page.goto(path)
    page.wait_for_selector("body[data-ready='true']")


def results(page: Page):
    return page.locator("#result-list > li.result")


def titles(page: Page) -> list[str]:
    return [t.strip() for t in page.locator("#result-list .result-title").all_inner_texts()]


def wait_idle(page: Page) -> None:
    """Wait until no search is in flight."""
    page.wait_for_function("!document.querySelector('#results').hasAttribute('aria-busy')")


def sign_in(page: Page, key: str) -> None:
    page.click("#sign-in-btn")
    expect(page.locator("#signin-dialog")).to_be_visible()
    page.fill("#signin-key", key)
    page.click("#signin-form button[type=submit]")
    expect(page.locator("#signed-in")).to_be_visible()
    expect(page.locator("#signin-dialog")).to_be_hidden()


def shot(page: Page, screenshots: Path, name: str, full: bool = True) -> None:
    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=full)


def no_horizontal_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    inner = page.evaluate("window.innerWidth")
    assert width <= inner, f"page is {width}px wide in a {inner}px viewport"


# -- (1) search ----------------------------------------------------------------------------------
def test_search_as_you_type_shows_pages_sections_and_highlights(page: Page, screenshots: Path) -> None:
    goto(page, "/")
    expect(page.locator("#home-title")).to_be_visible()
    expect(page.locator("#home-stats")).to_contain_text("documents")
    shot(page, screenshots, "00-home", full=False)
    page.click("#q")
    page.keyboard.type("undeclared cash", delay=20)  # no Enter: the debounced search answers
    expect(page).to_have_url(re.compile(r"\?q=undeclared\+cash&mode=hybrid"))
    expect(results(page).first).to_be_visible()
    wait_idle(page)

    first = results(page).first
    expect(first.locator(".result-title")).to_contain_text(CFT)
    # physical page 4 is printed "2" in the CFT guidelines
    expect(page.locator("#result-list .pages").filter(has_text="p. 4 (printed 2)").first).to_be_visible()
    expect(first.locator(".result-meta")).to_contain_text("CEPOL")
    expect(first.locator(".result-meta")).to_contain_text(re.compile(r"2023|2025"))
    expect(first.locator(".result-section")).to_contain_text("Cash couriers")
    marks = page.locator("#result-list .snippet mark")
    assert marks.count() >= 2
    assert {m.lower() for m in marks.all_inner_texts()} <= {"undeclared", "cash"}
    # the passage with the exact phrase, with its near-duplicate collapsed into "also in"
    # (a later passage of the first result's document is folded under it: #result-list li covers both)
    hit = (
        page.locator("#result-list li")
        .filter(has=page.locator(".snippet, .folded-snippet", has_text="undeclared cash above EUR 10 000"))
        .last
    )
    expect(hit.locator(".also-in")).to_contain_text("Also in:")
    also = hit.locator(".also-in a").first
    expect(also).to_contain_text(re.compile(r"\((2023|2025)\)"))
    assert re.search(r"/documents/\w+/file#page=4$", also.get_attribute("href"))
    assert also.get_attribute("target") == "_blank"
    # result count announced to screen readers; landmarks present
    expect(page.locator("#announcer")).to_contain_text("passages found")
    assert page.locator("main").count() == 1 and page.locator("[role=search]").count() == 1
    assert page.locator("#q").get_attribute("aria-describedby") == "q-hint"
    expect(page.locator("label[for=q]")).to_have_text("Search guidelines, manuals and assessments")
    shot(page, screenshots, "01-results")

    # Enter runs the search at once; group by document collapses passages into documents
    page.check("#group")
    expect(page).to_have_url(re.compile(r"group_by_document=true"))
    expect(page.locator("#summary")).to_contain_text("documents found")
    wait_idle(page)
    docs = titles(page)
    assert len(docs) == len(set(docs)), "grouped results repeat a document"
    expect(page.locator("#result-list .more-pages").first).to_contain_text("Also matches on:")


# -- (2) facets and URL state --------------------------------------------------------------------
def test_facets_filter_results_and_url_and_history(page: Page, screenshots: Path) -> None:
    goto(page, "/?q=cash&mode=hybrid")
    expect(results(page).first).to_be_visible()
    wait_idle(page)
    facet = page.locator("fieldset.facet", has=page.locator("legend", has_text="Document type"))
    expect(facet.locator("label", has_text="Training material")).to_contain_text(re.compile(r"\d"))
    expect(page.locator("#facet-panel")).to_contain_text("Numbers count documents, not passages.")
    before = page.locator("#summary .summary-count").inner_text()

    facet.locator("label", has_text="Training material").click()
    expect(page).to_have_url(re.compile(r"[?&]type=training\+material(&|$)"))
    expect(page.locator("#active-filters")).to_contain_text("Document type: Training material")
    wait_idle(page)
    for meta in page.locator("#result-list .result-meta").all_inner_texts():
        assert "Training material" in meta
    assert page.locator("#summary .summary-count").inner_text() != before
    # OR within a facet: the other types stay on offer
    expect(facet.locator("label", has_text="Guideline")).to_be_visible()
    facet.locator("label", has_text="Guideline").click()
    expect(page).to_have_url(
        re.compile(r"type=training\+material&type=guideline|type=guideline&type=training\+material")
    )
    wait_idle(page)
    kinds = {
        m
        for meta in page.locator("#result-list .result-meta").all_inner_texts()
        for m in ("Training material", "Guideline")
        if m in meta
    }
    assert kinds == {"Training material", "Guideline"}
    shot(page, screenshots, "02-facets-applied")

    # a year
    year = page.locator("fieldset.facet", has=page.locator("legend", has_text="Year"))
    year.locator("label", has_text="2024").click()
    expect(page).to_have_url(re.compile(r"[?&]year=2024(&|$)"))
    wait_idle(page)
    for meta in page.locator("#result-list .result-meta").all_inner_texts():
        assert "2024" in meta

    # back/forward restore the earlier searches
    page.go_back()
    expect(page).not_to_have_url(re.compile("year="))
    page.go_forward()
    expect(page.locator("#active-filters")).to_contain_text("2024")
    page.go_back()
    expect(page.locator("#active-filters")).not_to_contain_text("2024")
    page.go_back()
    expect(page).not_to_have_url(re.compile("type=guideline"))
    expect(page.locator("#active-filters")).to_contain_text("Training material")
    page.go_forward()
    expect(page).to_have_url(re.compile("type=guideline"))

    # a bookmarked URL runs its search
    goto(page, "/?q=cash+couriers&type=guideline&mode=hybrid")
    expect(page.locator("#q")).to_have_value("cash couriers")
    expect(results(page).first).to_be_visible()
    expect(facet.locator("input:checked")).to_have_count(1)
    wait_idle(page)
    assert all("Guideline" in m for m in page.locator("#result-list .result-meta").all_inner_texts())


# -- (3) open a result at its page ----------------------------------------------------------------
def test_result_opens_the_pdf_at_its_page(page: Page, live: LiveServer) -> None:
    goto(page, "/?q=undeclared+cash+above+EUR+10+000&mode=hybrid")
    link = results(page).filter(has_text="undeclared cash above EUR").first.locator(".result-link")
    expect(link).to_be_visible()
    with page.expect_popup() as popup_info:
        link.click()
    popup = popup_info.value
    assert popup.url.endswith("#page=4"), popup.url
    assert re.search(r"/documents/\w+/file#page=4$", popup.url)
    res = page.request.get(popup.url)
    assert res.status == 200
    assert res.headers["content-type"] == "application/pdf"
    assert res.body()[:5] == b"%PDF-"
    popup.close()


def test_signed_links_open_restricted_pdfs_without_the_key(page: Page, live: LiveServer, browser) -> None:
    goto(page, "/")
    sign_in(page, live.keys["e2e-reader-restricted"])
    expect(page.locator("#upload-link")).to_be_hidden()  # readers cannot upload (GET /me)
    goto(page, "/?q=cocaine+banana+containers&mode=hybrid")
    hit = results(page).filter(has_text=SOCTA).first
    href = hit.locator(".result-link").get_attribute("href")
    assert "token=" in href and href.endswith("#page=2")
    assert live.keys["e2e-reader-restricted"] not in href and live.keys["e2e-reader-restricted"] not in page.url
    # a browser without the key (another context) opens it thanks to the signed token ...
    other = browser.new_context(base_url=live.url)
    try:
        res = other.request.get(href)
        assert res.status == 200 and res.headers["content-type"] == "application/pdf"
        assert other.request.get(href.split("?")[0]).status == 404  # ... and not without it
    finally:
        other.close()


# -- (4) sign in, upload, job, find it ---------------------------------------------------------
def test_contributor_uploads_a_pdf_watches_the_job_and_finds_it(
    page: Page,
    live: LiveServer,
    tmp_path: Path,
    screenshots: Path,
) -> None:
    pdf = build_pdf(
        tmp_path / "ballast-water-guideline.pdf",
        DocSpec(
            title="Ballast water",
            pages=[
                PageSpec([("h1", "1. Purpose"), ("p", "This note explains inspections on river barges.")]),
                PageSpec(
                    [
                        ("h1", "2. Zebra mussel smuggling"),
                        (
                            "p",
                            "Zebra mussel larvae are smuggled in the ballast water tanks of river barges on the Sava; "
                            "inspectors take samples at the lock before the barge enters the port.",
                        ),
                    ]
                ),
            ],
        ),
    )
    goto(page, "/")
    expect(page.locator("#upload-link")).to_be_hidden()
    sign_in(page, live.keys["e2e-contributor"])
    # the key lives in sessionStorage only
    assert page.evaluate("sessionStorage.getItem('pactkb.apiKey')") == live.keys["e2e-contributor"]
    assert page.evaluate("localStorage.length") == 0
    assert live.keys["e2e-contributor"] not in page.url
    page.click("#upload-link")
    expect(page).to_have_url(re.compile(r"\?view=upload$"))
    expect(page.locator("#upload-title")).to_have_text("Add documents")

    expect(page.locator("#up-sensitivity")).to_have_value("")  # nothing preselected: the uploader chooses
    page.set_input_files("#up-files", str(pdf))
    page.fill("#up-title", "E2E Guideline on Ballast Water Inspections")
    page.fill("#up-publisher", "Sava Commission E2E")
    page.fill("#up-year", "2024")
    page.select_option("#up-type", "guideline")
    page.select_option("#up-language", "en")
    page.select_option("#up-sensitivity", "public")
    page.check("#upload-form input[name=area][value='cross-cutting']")
    page.click("#upload-submit")

    job = page.locator("#job")
    expect(job.locator(".job-status")).to_contain_text("Done", timeout=30_000)
    row = job.locator("tbody tr").first
    expect(row).to_contain_text("ballast-water-guideline.pdf")
    expect(row).to_contain_text("Added")
    expect(row).to_contain_text(re.compile(r"\d+ passages?"))
    expect(row.locator("a", has_text="View document")).to_be_visible()
    shot(page, screenshots, "04a-upload-job-done")

    # find it by search, with the metadata given at upload
    page.fill("#q", "zebra mussel ballast water")
    page.press("#q", "Enter")
    first = results(page).first
    expect(first.locator(".result-title")).to_have_text(re.compile("E2E Guideline on Ballast Water Inspections"))
    expect(first.locator(".result-meta")).to_contain_text("Sava Commission E2E")
    expect(first.locator(".result-meta")).to_contain_text("2024")
    expect(first.locator(".snippet mark").first).to_be_visible()

    # a file that is not a PDF is refused, and the page says why, next to the field
    notes = tmp_path / "notes.txt"
    notes.write_text("meeting notes, not a PDF\n")
    page.click("#upload-link")
    page.set_input_files("#up-files", str(notes))
    page.click("#upload-submit")  # no sensitivity chosen: refused before anything is sent
    expect(page.locator("#up-sensitivity-error")).to_contain_text("Choose a sensitivity")
    expect(page.locator("#up-sensitivity")).to_have_attribute("aria-invalid", "true")
    shot(page, screenshots, "04b-upload-no-sensitivity")
    page.select_option("#up-sensitivity", "public")
    page.click("#upload-submit")
    expect(page.locator("#upload-error")).to_contain_text("The upload was refused")
    expect(page.locator("#upload-error")).to_contain_text("notes.txt: not a PDF")
    expect(page.locator("#up-files-error")).to_contain_text("not a PDF")
    expect(page.locator("#up-files")).to_have_attribute("aria-invalid", "true")
    shot(page, screenshots, "04c-upload-not-a-pdf")

    # the page only offers sensitivities within the key's clearance (GET /me); the API refuses others anyway
    options = page.locator("#up-sensitivity option").evaluate_all("els => els.map(e => e.value)")
    assert options == ["", "public", "restricted"]  # "choose…" first, no level preselected
    expect(page.locator("#signed-in")).to_contain_text("contributor")


def test_sign_in_rejects_a_bad_key_and_a_revoked_key_signs_out(page: Page, live: LiveServer) -> None:
    goto(page, "/?q=cash&mode=hybrid")
    page.click("#sign-in-btn")
    page.fill("#signin-key", "pkb_00000000_not-a-real-key")
    page.click("#signin-form button[type=submit]")
    expect(page.locator("#signin-error")).to_contain_text("This key was not accepted")
    expect(page.locator("#signin-dialog")).to_be_visible()
    page.click("#signin-cancel")
    expect(page.locator("#signed-in")).to_be_hidden()
    assert page.evaluate("sessionStorage.getItem('pactkb.apiKey')") is None

    sign_in(page, live.keys["e2e-reader-revoked"])
    live.state.keys.revoke("e2e-reader-revoked")
    page.fill("#q", "cash couriers")
    page.press("#q", "Enter")
    expect(page.locator("#notices")).to_contain_text("was not accepted")
    expect(page.locator("#notices")).to_contain_text("signed out")
    expect(page.locator("#sign-in-btn")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('pactkb.apiKey')") is None
    expect(results(page).first).to_be_visible()  # the search ran again, anonymously


# -- (5) restricted documents ------------------------------------------------------------------
def test_restricted_document_only_for_cleared_readers(page: Page, live: LiveServer, screenshots: Path) -> None:
    goto(page, "/?q=cocaine+banana+containers&mode=hybrid")
    expect(results(page).first).to_be_visible()
    wait_idle(page)
    assert not any(SOCTA in t for t in titles(page))
    expect(page.locator("main")).not_to_contain_text("concealed in banana")
    expect(page.locator("#facet-groups")).not_to_contain_text("Threat assessment")
    expect(page.locator("#anon-note")).to_have_text("Public documents only")
    shot(page, screenshots, "05a-anonymous-no-restricted")

    sign_in(page, live.keys["e2e-reader-restricted"])
    hit = results(page).filter(has_text=SOCTA).first
    expect(hit).to_be_visible()
    expect(hit.locator(".badge-restricted")).to_have_text("Restricted")
    expect(hit.locator(".snippet")).to_contain_text("banana")
    shot(page, screenshots, "05b-cleared-sees-restricted")

    # signing out forgets what was seen: the same search no longer shows it
    page.click("#sign-out-btn")
    expect(page.locator("#sign-in-btn")).to_be_visible()
    expect(results(page).first).to_be_visible()
    wait_idle(page)
    assert not any(SOCTA in t for t in titles(page))
    # nor can its document page be opened anonymously
    goto(page, f"/?doc={live.doc_ids['socta-western-balkans-2024-extract.pdf']}")
    expect(page.locator("#doc-title")).to_have_text("Document not available")
    expect(page.locator("#view-doc")).not_to_contain_text(SOCTA)


# -- (6) empty states --------------------------------------------------------------------------
def test_no_results_suggests_clearing_filters(page: Page, screenshots: Path) -> None:
    goto(page, "/?q=zzqx+wvvq&type=booklet&mode=lexical")
    state = page.locator("#message .state-empty")
    expect(state).to_contain_text("No passages match “zzqx wvvq”.")
    expect(state).to_contain_text("Removing them may bring results back")
    shot(page, screenshots, "06a-no-results")
    state.locator("button", has_text="Clear all filters").click()
    expect(page).not_to_have_url(re.compile("type="))
    expect(page.locator("#message .state-empty")).to_contain_text("Try other words")
    expect(page.locator("#message button")).to_have_count(0)


def test_api_error_message_is_shown(page: Page, screenshots: Path) -> None:
    goto(page, "/?q=cash&type=not-a-type&mode=hybrid")
    alert = page.locator("#message [role=alert]")
    expect(alert).to_contain_text("The search could not be run")
    expect(alert).to_contain_text("unknown document type 'not-a-type'")
    shot(page, screenshots, "06b-error-422")
    goto(page, "/?q=cash&year=last+year&mode=hybrid")
    expect(page.locator("#message [role=alert]")).to_contain_text("'last year' is not a year")


def test_a_mistyped_language_in_the_url_is_explained(page: Page) -> None:
    goto(page, "/?q=cash&language=srb&mode=hybrid")
    alert = page.locator("#message [role=alert]")
    expect(alert).to_contain_text("unknown language 'srb'")
    expect(alert).to_contain_text("sr (Serbian)")
    goto(page, "/?q=finansijske+istrage&language=Serbian&mode=hybrid")
    expect(results(page).first).to_be_visible()
    expect(results(page).first.locator(".result-meta")).to_contain_text("Serbian")
    expect(page.locator("#message [role=alert]")).to_have_count(0)


def test_no_good_answer_flag(page: Page) -> None:
    def weak(route) -> None:
        response = route.fetch()
        data = response.json()
        data["no_good_answer"] = True
        route.fulfill(response=response, json=data)

    page.route(SEARCH_API, weak)
    goto(page, "/?q=weather+forecast+for+tomorrow&mode=hybrid")
    expect(page.locator("#message .state-weak")).to_have_text(
        "Nothing in the knowledge base answers this well; closest passages:"
    )
    expect(results(page).first).to_be_visible()


def test_a_query_in_serbian_says_which_english_words_were_also_searched(page: Page, screenshots: Path) -> None:
    goto(page, "/?q=krijum%C4%8Darenje+preko+granice&mode=hybrid")
    # the field glossary renders "preko" ("through"), the dictionary fills the word Apertium did not know
    expect(page.locator("#message .state-note")).to_have_text("Also searched in English: smuggling through border")
    expect(results(page).first).to_be_visible()
    assert any("smuggling" in t.lower() or "border" in t.lower() for t in results(page).all_inner_texts()[:5])
    shot(page, screenshots, "02c-serbian-query")
    goto(page, "/?q=undeclared+cash&mode=hybrid")
    expect(results(page).first).to_be_visible()
    assert page.locator("#message .state-note").count() == 0  # English queries are searched as they are


def test_synonyms_searched_and_superseded_editions_are_shown(page: Page, live: LiveServer, screenshots: Path) -> None:
    goto(page, "/?q=smurfing+by+money+mules&mode=hybrid")
    expect(page.locator("#message .expansion")).to_contain_text("Also searched for: structuring")
    shot(page, screenshots, "02d-synonyms")
    old = live.doc_ids["cft-good-practice-2023.pdf"]
    goto(page, f"/?doc={old}")
    note = page.locator(".doc-head .superseded")
    expect(note).to_contain_text("Superseded by a newer edition")
    expect(note.locator("a")).to_contain_text("2025")
    shot(page, screenshots, "06b-superseded-document")
    goto(page, "/?q=undeclared+cash+couriers&mode=hybrid")
    expect(results(page).first).to_be_visible()
    page.locator("#filter-current").check()
    expect(page).to_have_url(re.compile(r"current=true"))
    wait_idle(page)  # the filtered search has answered (the previous page's results are no longer shown)
    expect(results(page).first).to_be_visible()
    # the list re-renders after the URL changes: wait (auto-retrying) until no older edition is shown
    expect(page.locator(".result .result-meta", has_text="2023")).to_have_count(0)


def test_index_loading_state_polls_until_ready(page: Page, screenshots: Path) -> None:
    loading = {"on": True}
    body = json.dumps({"status": "loading", "detail": "the index is loading"})

    def gate(route) -> None:
        if loading["on"]:
            route.fulfill(status=503, content_type="application/json", body=body, headers={"Retry-After": "2"})
        else:
            route.continue_()

    page.route(re.compile(r"/ready$"), gate)
    page.route(SEARCH_API, gate)
    goto(page, "/?q=cash+couriers&mode=hybrid")
    expect(page.locator("#message .state-loading")).to_contain_text("The index is loading…")
    expect(page.locator(".facets")).to_be_hidden()
    shot(page, screenshots, "06c-index-loading", full=False)
    loading["on"] = False
    expect(results(page).first).to_be_visible(timeout=8000)
    expect(page.locator("#notices")).not_to_contain_text("loading")


# -- (7) document page ---------------------------------------------------------------------------
def test_document_page_with_toc_and_paginated_passages(page: Page, live: LiveServer, screenshots: Path) -> None:
    goto(page, "/?q=cash+couriers&mode=hybrid")
    # near-duplicate editions collapse under the newer one (2025), the 2023 edition is listed as 'also in'
    first = results(page).filter(has_text=f"{CFT} (2025)").first
    first.locator("a", has_text="About this document").click()
    doc_id = live.doc_ids["cft-good-practice-2025.pdf"]
    expect(page).to_have_url(re.compile(rf"\?doc={doc_id}$"))
    expect(page.locator("#doc-title")).to_have_text(f"{CFT} (2025)")
    expect(page.locator("#doc-title")).to_be_focused()
    meta = page.locator(".doc-meta")
    expect(meta).to_contain_text("CEPOL")
    expect(meta).to_contain_text("Counter-terrorism")
    expect(meta).to_contain_text("cft-good-practice-2025.pdf")

    toc = page.locator("nav.toc")
    entry = toc.locator("a", has_text="2. Cash couriers and cross-border declarations")
    expect(entry).to_contain_text("p. 4 (printed 2)")
    assert entry.get_attribute("href").endswith("/file#page=4")
    assert entry.get_attribute("target") == "_blank"

    chunks = page.locator(".chunk-list > li")
    _, detail = live.get_json(f"/documents/{doc_id}")
    n = detail["chunk_count"]
    assert n > 20
    expect(page.locator(".chunks .summary")).to_have_text(f"Passages 1–20 of {n}")
    expect(chunks).to_have_count(20)
    for link in page.locator(".chunk-page").all()[:5]:
        assert re.search(r"/file#page=\d+$", link.get_attribute("href"))
    expect(page.locator(".chunk-page").filter(has_text="p. 4 (printed 2)").first).to_be_visible()
    shot(page, screenshots, "07-document-page")

    page.locator(".chunks .pager button", has_text="Next").click()
    expect(page).to_have_url(re.compile(r"offset=20"))
    expect(chunks).to_have_count(n - 20)
    expect(page.locator(".chunks .summary")).to_have_text(f"Passages 21–{n} of {n}")
    # "Back to results" from a later page of passages still returns to the results
    page.locator(".back-link").click()
    expect(page).to_have_url(re.compile(r"\?q=cash\+couriers"))
    expect(results(page).first).to_be_visible()
    page.go_back()
    expect(page).to_have_url(re.compile(r"offset=20"))
    page.go_back()
    expect(chunks).to_have_count(20)
    page.locator(".back-link").click()
    expect(page).to_have_url(re.compile(r"\?q=cash\+couriers"))
    expect(results(page).first).to_be_visible()


def test_more_like_this(page: Page) -> None:
    goto(page, "/?q=undeclared+cash+above+EUR+10+000&mode=hybrid")
    hit = results(page).first
    chunk = hit.locator(".result-title a").get_attribute("data-chunk")
    hit.locator("button", has_text="More like this").click()
    expect(page).to_have_url(re.compile(rf"\?similar={chunk}$"))
    expect(page.locator("#similar-head")).to_contain_text("Passages similar to")
    expect(page.locator("#summary")).to_contain_text("similar passages")
    expect(results(page).first).to_be_visible()
    page.locator("#similar-head .back-link").click()
    expect(page).to_have_url(re.compile(r"\?q=undeclared"))


# -- (8) keyboard ------------------------------------------------------------------------------
def test_keyboard_skip_links_search_and_open_result(page: Page) -> None:
    goto(page, "/")
    page.keyboard.press("Tab")
    focused = page.locator(":focus")
    expect(focused).to_have_text("Skip to search")
    box = focused.bounding_box()
    assert box and box["y"] >= 0, "skip link should be visible when focused"
    page.keyboard.press("Enter")
    expect(page.locator("#q")).to_be_focused()
    page.keyboard.type("undeclared cash above EUR")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"q=undeclared\+cash\+above\+EUR"))
    expect(results(page).first).to_be_visible()
    wait_idle(page)

    # from the top of the page: Tab, Tab = "Skip to results", Enter, Tab = first result
    goto(page, page.url)
    expect(results(page).first).to_be_visible()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to results")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    link = page.locator(":focus")
    expect(link).to_have_class(re.compile("result-link"))
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), "focused result link has no visible focus outline"
    with page.expect_popup() as popup_info:
        page.keyboard.press("Enter")
    assert popup_info.value.url.endswith("#page=4")
    popup_info.value.close()

    # facets work with the keyboard and keep focus after the results reload
    box = page.locator("fieldset.facet", has=page.locator("legend", has_text="Language")).locator("input").first
    box.focus()
    key = box.get_attribute("data-focus-key")
    page.keyboard.press("Space")
    expect(page).to_have_url(re.compile(r"language="))
    expect(page.locator(f"[data-focus-key='{key}']")).to_be_focused()
    expect(page.locator(f"[data-focus-key='{key}']")).to_be_checked()


# -- (9) phone width -----------------------------------------------------------------------------
def test_phone_width_has_no_horizontal_scroll(new_page, live: LiveServer, screenshots: Path) -> None:
    page = new_page(PHONE)
    goto(page, "/?q=cash+couriers&mode=hybrid")
    expect(results(page).first).to_be_visible()
    wait_idle(page)
    no_horizontal_scroll(page)
    for value in ("hybrid", "dense", "lexical"):  # every "Match by" choice fits its menu
        page.select_option("#mode", value)
        room = page.evaluate("""() => {
            const el = document.querySelector('#mode');
            const ctx = document.createElement('canvas').getContext('2d');
            const cs = getComputedStyle(el);
            ctx.font = `${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
            const text = ctx.measureText(el.options[el.selectedIndex].text).width;
            const box = el.getBoundingClientRect();
            return {text, inner: box.width - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - 20,
                    right: box.right, viewport: window.innerWidth};
        }""")
        assert room["text"] <= room["inner"] and room["right"] <= room["viewport"], (value, room)
    page.select_option("#mode", "hybrid")
    wait_idle(page)
    panel = page.locator("#facet-panel")
    expect(panel).not_to_have_attribute("open", "")  # collapsed ...
    assert panel.bounding_box()["y"] < results(page).first.bounding_box()["y"]  # ... above the results
    shot(page, screenshots, "09a-phone-results", full=False)
    panel.locator("summary").click()
    expect(page.locator("#facet-groups fieldset").first).to_be_visible()
    no_horizontal_scroll(page)
    shot(page, screenshots, "09b-phone-facets-open", full=False)

    goto(page, f"/?doc={live.doc_ids['cft-good-practice-2023.pdf']}")
    expect(page.locator("#doc-title")).to_be_visible()
    no_horizontal_scroll(page)
    shot(page, screenshots, "09c-phone-document", full=False)
    goto(page, "/")
    sign_in(page, live.keys["e2e-contributor"])
    goto(page, "/?view=upload")
    expect(page.locator("#upload-form")).to_be_visible()
    no_horizontal_scroll(page)


# -- strings table -------------------------------------------------------------------------------
def _used_string_ids() -> set[str]:
    js = (WEB / "app.js").read_text(encoding="utf-8")
    html = (WEB / "index.html").read_text(encoding="utf-8")
    ids = set(re.findall(r"\bt\('([a-z0-9_.]+)'", js))
    ids |= set(re.findall(r"label: '([a-z0-9_]+)'", js))
    ids |= set(re.findall(r"field\('\w+', '([a-z0-9_]+)'", js))
    ids |= set(re.findall(r"'(detect_automatically|upload_files_hint|upload_sensitivity_hint)'", js))
    ids |= set(re.findall(r'data-i18n(?:-[a-z-]+)?="([a-z0-9_.]+)"', html))
    for status in ("queued", "running", "done", "failed"):
        ids.add(f"job_status.{status}")
    for status in ("queued", "running", "indexed", "duplicate", "failed"):
        ids.add(f"file_status.{status}")
    ids |= {f"doc_type.{v}" for v in DOC_TYPES} | {f"area.{v}" for v in AREAS}
    ids |= {f"sensitivity.{v}" for v in ("public", "restricted", "confidential")}
    return ids


def test_every_string_id_used_exists_in_the_english_table() -> None:
    en = json.loads((WEB / "i18n" / "en.json").read_text(encoding="utf-8"))
    used = _used_string_ids()
    assert len(used) > 100
    missing = sorted(used - set(en))
    assert not missing, f"string ids used but missing from en.json: {missing}"


def test_second_strings_table(page: Page, screenshots: Path) -> None:
    """A second table needs only a JSON file and a manifest entry; missing ids fall back to English.

    The table here is a machine-made pseudo-locale (each string wrapped in ⟦ ⟧), not a translation:
    if any interface text stayed plain English, it would be hard-coded rather than from the table.
    """
    en = json.loads((WEB / "i18n" / "en.json").read_text(encoding="utf-8"))
    manifest = json.loads((WEB / "i18n" / "languages.json").read_text(encoding="utf-8"))
    manifest["languages"]["qps"] = {"name": "Pseudo", "file": "qps.json", "dir": "ltr"}

    def pseudo(value):
        return {k: pseudo(v) for k, v in value.items()} if isinstance(value, dict) else f"⟦{value}⟧"

    table = {k: pseudo(v) for k, v in en.items() if k != "footer_api"}  # one id left untranslated
    page.route(re.compile(r"/static/i18n/languages\.json$"), lambda r: r.fulfill(json=manifest))
    page.route(re.compile(r"/static/i18n/qps\.json$"), lambda r: r.fulfill(json=table))

    goto(page, "/?lang=qps")
    assert page.evaluate("document.documentElement.lang") == "qps"
    assert page.evaluate("window.pactkb.STRINGS.qps.search_button") == "⟦Search⟧"
    assert page.evaluate("window.pactkb.STRINGS.en.search_button") == "Search"
    assert page.locator("#q").get_attribute("placeholder").startswith("⟦")
    texts = page.evaluate("""() => [...document.querySelectorAll('[data-i18n]')]
        .map(el => [el.getAttribute('data-i18n'), el.textContent])""")
    for sid, text in texts:
        if sid == "footer_api":
            assert text == "API documentation"  # English fallback
        else:
            assert text.startswith("⟦") and text.endswith("⟧"), (sid, text)
    # links keep the language; results views use the table too
    page.locator("#examples a").first.click()
    expect(page).to_have_url(re.compile(r"lang=qps"))
    expect(results(page).first).to_be_visible()
    wait_idle(page)
    expect(page.locator("#summary .summary-count")).to_have_text(re.compile(r"^⟦.*⟧$"))
    expect(results(page).first.locator("button.action")).to_have_text("⟦More like this⟧")
    for legend in page.locator("#facet-groups legend").all_inner_texts():
        assert legend.startswith("⟦"), legend
    shot(page, screenshots, "10-pseudo-locale")


def test_old_year_bookmarks_still_open_and_use_the_new_name(page: Page) -> None:
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url) if SEARCH_API.search(r.url) else None)
    goto(page, "/?q=cash&year_min=2024&year_max=2025&mode=hybrid")
    wait_idle(page)
    expect(page.locator("#active-filters")).to_contain_text("2024")
    assert seen and all("year=2024-2025" in u and "year_min" not in u for u in seen)


def test_a_shared_link_filtered_to_a_document_or_a_sensitivity_filters_the_page_too(
    page: Page, live: LiveServer
) -> None:
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url) if SEARCH_API.search(r.url) else None)
    doc_id = live.doc_ids["cft-good-practice-2023.pdf"]
    goto(page, f"/?q=cash+couriers&document={doc_id}&mode=hybrid")
    expect(results(page).first).to_be_visible()
    wait_idle(page)
    expect(page.locator("#active-filters")).to_contain_text(f"Document: {doc_id}")
    assert seen and all(f"document={doc_id}" in u for u in seen)
    assert all("(2023)" in t for t in page.locator("#result-list .result-title").all_inner_texts())
    page.locator("#active-filters .chip", has_text="Document").click()
    expect(page).not_to_have_url(re.compile("document="))
    goto(page, "/?q=cash+couriers&sensitivity=public&mode=hybrid")
    wait_idle(page)
    expect(page.locator("#active-filters")).to_contain_text("Sensitivity: Public")
    assert any("sensitivity=public" in u for u in seen)


def test_a_section_heading_that_repeats_the_document_title_is_not_shown_again(page: Page, live) -> None:
    """The Macedonian guide's title is also its first heading: its passages say "2. Контролирана испорака", not
    "Насоки за истраги на трговија со дрога › 2. Контролирана испорака" under that very title."""
    title = "Насоки за истраги на трговија со дрога"
    goto(page, f"/?doc={live.doc_ids['nasoki-trgovija-so-droga-mk.md']}")
    expect(page.locator("#doc-title")).to_have_text(title)
    sections = page.locator(".chunk-section")
    expect(sections.filter(has_text="2. Контролирана испорака").first).to_have_text("2. Контролирана испорака")
    assert not any(title in s for s in sections.all_inner_texts())
    goto(page, "/?q=" + quote("контролирана испорака") + "&mode=lexical")
    hit = results(page).filter(has_text=title).first
    expect(hit.locator(".result-section")).to_contain_text("Контролирана испорака")
    expect(hit.locator(".result-section")).not_to_contain_text(title)
