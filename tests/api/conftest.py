"""A live app over the sample corpus (public, restricted and confidential documents) with keys per role."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pactkb.api.app import create_app
from pactkb.index.kb import KnowledgeBase
from pactkb.settings import Settings


@dataclass
class Api:
    """A test client plus keys for each kind of caller."""

    client: TestClient
    keys: dict[str, str]
    settings: Settings

    def h(self, who: str | None) -> dict[str, str]:
        """Authorization header for a caller (None = anonymous)."""
        return {"Authorization": f"Bearer {self.keys[who]}"} if who else {}

    def get(self, url: str, who: str | None = None, **kw):
        return self.client.get(url, headers={**self.h(who), **kw.pop("headers", {})}, **kw)

    def post(self, url: str, who: str | None = None, **kw):
        return self.client.post(url, headers={**self.h(who), **kw.pop("headers", {})}, **kw)

    def patch(self, url: str, who: str | None = None, **kw):
        return self.client.patch(url, headers={**self.h(who), **kw.pop("headers", {})}, **kw)

    def delete(self, url: str, who: str | None = None, **kw):
        return self.client.delete(url, headers={**self.h(who), **kw.pop("headers", {})}, **kw)

    @property
    def state(self):
        return self.client.app.state.pactkb

    def doc_id(self, file: str) -> str:
        """Id of a sample document by file name."""
        row = self.state.kb.store.conn().execute("SELECT id FROM documents WHERE source_name=?", (file,)).fetchone()
        return row[0]


ROLES = {
    "reader": ("reader", "public"),
    "reader_r": ("reader", "restricted"),
    "contrib": ("contributor", "public"),
    "contrib_r": ("contributor", "restricted"),
    "admin": ("admin", "confidential"),
}
PUBLIC = {"sensitivity": "public"}  # uploads must say their sensitivity
RESTRICTED = "socta-western-balkans-2024-extract.pdf"
CONFIDENTIAL = "strategic-analysis-vat-carousel-fraud-2025.pdf"


def make_api(tmp_path: Path, sample_dir: Path, **overrides) -> tuple[TestClient, dict[str, str], Settings]:
    overrides = {"short_passage_weight": 1.0, **overrides}  # the fake model's 64-token chunks are nearly all short
    settings = Settings(data=tmp_path / "data", model="fake:64", parse_workers=0, **overrides)
    KnowledgeBase(settings).indexer.ingest([sample_dir])
    client = TestClient(create_app(settings, load_in_background=False))
    client.__enter__()
    st = client.app.state.pactkb
    keys = {name: st.keys.create(name, role, clearance)[0] for name, (role, clearance) in ROLES.items()}
    return client, keys, settings


@pytest.fixture
def api(tmp_path, sample_dir) -> Api:
    client, keys, settings = make_api(tmp_path, sample_dir)
    yield Api(client, keys, settings)
    client.__exit__(None, None, None)


@pytest.fixture
def pdf_bytes(make_pdf) -> bytes:
    """A small valid PDF to upload."""
    return make_pdf(
        "upload.pdf", [["Analysts report that smugglers use drones to drop cash across rivers."]]
    ).read_bytes()
