"""Page previews in the browser: "p. 4" shows the cited page with the passage highlighted (mouse or keyboard),
links to the PDF at that page; the document page shows page thumbnails."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import PHONE, LiveServer
from .test_web import goto, no_horizontal_scroll, results, wait_idle

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

YELLOW = """img => {
    const c = document.createElement('canvas');
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] > 200 && d[i + 1] > 180 && d[i + 2] < 160) n++;
    return n;
}"""


def open_first_preview(page: Page) -> tuple:
    """Click the first result's page button; the preview image once it has loaded."""
    first = results(page).first
    toggle = first.locator(".result-meta .page-toggle")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    img = first.locator(".preview img.preview-image")
    expect(img).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    return first, toggle, img


def test_result_page_preview_shows_the_highlighted_passage(page: Page, live: LiveServer, screenshots: Path) -> None:
    goto(page, "/?q=undeclared+cash+declaration+threshold&mode=hybrid")
    wait_idle(page)
    first, toggle, img = open_first_preview(page)
    src = img.get_attribute("src")
    assert re.search(r"/documents/\w+/pages/\d+/image\?width=720&chunk=\d+$", src), src
    assert img.evaluate(YELLOW) > 2000, "the passage is not highlighted on the page"
    pdf_link = first.locator(".preview a.preview-link")
    assert re.search(r"/documents/\w+/file#page=\d+$", pdf_link.get_attribute("href"))
    assert pdf_link.get_attribute("target") == "_blank"
    first.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "10-preview.png"), full_page=False)
    # the keyboard closes and reopens it
    first.locator(".preview button", has_text="Hide the page").click()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(first.locator(".preview")).to_be_hidden()
    expect(toggle).to_be_focused()
    page.keyboard.press("Enter")
    expect(first.locator(".preview img.preview-image")).to_be_visible()
    page.keyboard.press("Tab")
    page.keyboard.press("Escape")
    expect(first.locator(".preview")).to_be_hidden()


def test_document_page_shows_page_thumbnails(page: Page, live: LiveServer, screenshots: Path) -> None:
    doc = live.doc_ids["cft-good-practice-2025.pdf"]
    status, detail = live.get_json(f"/documents/{doc}")
    goto(page, f"/?doc={doc}")
    thumbs = page.locator(".thumbs .thumb")
    expect(thumbs).to_have_count(detail["pages"])
    page.wait_for_function("[...document.querySelectorAll('.thumb img')].every(i => i.complete && i.naturalWidth > 0)")
    assert re.search(r"/file#page=1$", thumbs.first.locator("a").get_attribute("href"))
    page.screenshot(path=str(screenshots / "11-document-thumbnails.png"), full_page=False)


def test_phone_width_preview_fits(new_page, live: LiveServer, screenshots: Path) -> None:
    page = new_page(PHONE)
    goto(page, "/?q=undeclared+cash+declaration+threshold&mode=hybrid")
    wait_idle(page)
    first, _, img = open_first_preview(page)
    no_horizontal_scroll(page)
    assert img.bounding_box()["width"] <= PHONE["width"]
    first.locator(".preview").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "12-phone-preview.png"), full_page=False)
