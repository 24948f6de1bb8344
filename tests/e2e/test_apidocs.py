"""/docs and /redoc in a real browser: the API documentation renders with no request leaving localhost."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def outside_requests(page: Page, live: LiveServer) -> list[str]:
    """Record (and block) every request that does not go to the live server."""
    seen: list[str] = []

    def check(route) -> None:
        url = route.request.url
        if url.startswith(live.url) or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            seen.append(url)
            route.abort()

    page.route("**/*", check)
    return seen


def test_swagger_ui_renders_operations_offline(page: Page, live: LiveServer, screenshots: Path) -> None:
    outside = outside_requests(page, live)
    page.goto("/docs")
    expect(page.locator(".opblock-summary-path", has_text="/search").first).to_be_visible()
    assert page.locator(".opblock").count() >= 10
    page.screenshot(path=str(screenshots / "30-api-docs.png"))
    assert outside == []


def test_redoc_renders_offline(page: Page, live: LiveServer, screenshots: Path) -> None:
    outside = outside_requests(page, live)
    page.goto("/redoc")
    expect(page.locator("h2", has_text="Search (query string)")).to_be_visible()
    page.screenshot(path=str(screenshots / "31-api-redoc.png"))
    assert outside == []
