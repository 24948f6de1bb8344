"""Consecutive results from one document fold under its first result on the page; the API's list stays flat."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import LiveServer
from .test_web import goto, results, wait_idle

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]
QUERY = "cash couriers terrorist financing"


def runs(hits: list[dict]) -> list[list[dict]]:
    """Consecutive hits grouped by document, as the page should fold them."""
    out: list[list[dict]] = []
    for h in hits:
        if out and out[-1][0]["document_id"] == h["document_id"]:
            out[-1].append(h)
        else:
            out.append([h])
    return out


def test_consecutive_passages_of_one_document_fold_under_the_first(
    page: Page, live: LiveServer, screenshots: Path
) -> None:
    status, api = live.get_json("/search?" + urllib.parse.urlencode({"q": QUERY, "mode": "hybrid", "k": 10}))
    assert status == 200 and len(api["results"]) == 10  # the API's list is flat and full
    groups = runs(api["results"])
    folded = [g for g in groups if len(g) > 1]
    assert folded, "the sample query should have consecutive passages from one document"
    goto(page, "/?" + urllib.parse.urlencode({"q": QUERY, "mode": "hybrid"}))
    wait_idle(page)
    expect(results(page)).to_have_count(len(groups))
    first = folded[0]
    item = results(page).nth(groups.index(first))
    summary = item.locator("details.folded > summary")
    n = len(first) - 1
    expect(summary).to_have_text(
        f"{n} more passage{'s' if n > 1 else ''} from this document: " + expected_pages(first[1:])
    )
    expect(item.locator(".folded-hit").first).to_be_hidden()
    summary.focus()
    page.keyboard.press("Enter")  # keyboard opens the fold
    expect(item.locator(".folded-hit")).to_have_count(n)
    ranks = [int(v) for v in item.locator(".folded-hit").evaluate_all("els => els.map(e => e.value)")]
    assert ranks == [h["rank"] for h in first[1:]]  # ranking unchanged
    shot_path = screenshots / "03-folded-results.png"
    item.scroll_into_view_if_needed()
    page.screenshot(path=str(shot_path), full_page=True)


def expected_pages(hits: list[dict]) -> str:
    """The page list the fold's summary shows: sorted, unique, ranges."""
    pages = sorted({p for h in hits for p in range(h["page_start"], h["page_end"] + 1)})
    runs_: list[list[int]] = []
    for p in pages:
        if runs_ and p == runs_[-1][1] + 1:
            runs_[-1][1] = p
        else:
            runs_.append([p, p])
    text = ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in runs_)
    return f"p. {text}" if len(pages) == 1 else f"pp. {text}"
