"""Browser tests: a live pactkb server over the sample corpus (fake encoder) and Debian's Chromium.

The server runs in a background thread on a free localhost port; Playwright drives
/usr/bin/chromium (never a downloaded browser). Screenshots go to test-output/screenshots/.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    """The running service: base URL, API keys by name, and its state (for key revocation)."""

    url: str
    keys: dict[str, str]
    state: object
    doc_ids: dict[str, str] = field(default_factory=dict)

    def get_json(self, path: str, key: str | None = None) -> tuple[int, dict]:
        req = urllib.request.Request(self.url + path, headers={"Authorization": f"Bearer {key}"} if key else {})
        try:
            with urllib.request.urlopen(req, timeout=10) as res:
                return res.status, json.loads(res.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"{}")


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Ingest the sample corpus into a temporary data dir and serve it on localhost."""
    import uvicorn

    from pactkb.api.app import create_app
    from pactkb.corpus.generate import SAMPLE_DIR
    from pactkb.index.kb import KnowledgeBase
    from pactkb.settings import Settings
    from tests.index.test_dictionary import write_dictd

    dictionaries = write_dictd(
        tmp_path_factory.mktemp("dict"),
        "freedict-hrv-eng",
        {"krijumčarenje": "contraband, smuggling", "granica": "border, frontier"},
    ).parent
    settings = Settings(
        data=tmp_path_factory.mktemp("e2e") / "data", model="fake:64", parse_workers=0, dictionaries=str(dictionaries)
    )
    KnowledgeBase(settings).indexer.ingest([SAMPLE_DIR])
    app = create_app(settings)
    st = app.state.pactkb
    keys = {}
    for name, role, clearance in [
        ("e2e-contributor", "contributor", "restricted"),
        ("e2e-reader-restricted", "reader", "restricted"),
        ("e2e-reader-revoked", "reader", "restricted"),
    ]:
        keys[name], _ = st.keys.create(name, role, clearance)
    doc_ids = {r[1]: r[0] for r in st.kb.store.conn().execute("SELECT id, source_name FROM documents")}

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="e2e-uvicorn", daemon=True)
    thread.start()
    live = LiveServer(url=f"http://127.0.0.1:{port}", keys=keys, state=st, doc_ids=doc_ids)
    deadline = time.monotonic() + 60
    while True:
        try:
            if live.get_json("/ready")[0] == 200:
                break
        except (OSError, ValueError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the e2e server did not become ready within 60 s")
        time.sleep(0.1)
    yield live
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium for the session."""
    if not CHROMIUM.exists():
        pytest.fail(
            "the browser tests need Debian's Chromium at /usr/bin/chromium: run `make test` (it installs them) "
            "or `make system-deps` "
            "(or deselect them with -m 'not e2e')"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


class PageErrors(list):
    """Uncaught JavaScript errors seen by a page (a test fails if any occur)."""


@pytest.fixture
def new_page(browser, live: LiveServer):
    """Factory: a fresh browser context (own sessionStorage) and page at a viewport size."""
    contexts = []
    errors = PageErrors()

    def make(viewport: dict[str, int] | None = None):
        ctx = browser.new_context(viewport=viewport or DESKTOP, base_url=live.url, locale="en-US")
        ctx.set_default_timeout(10_000)
        contexts.append(ctx)
        page = ctx.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    yield make
    for ctx in contexts:
        ctx.close()
    assert not errors, f"uncaught JavaScript errors: {errors}"


@pytest.fixture
def page(new_page):
    """A desktop-size page in a fresh context."""
    return new_page()
