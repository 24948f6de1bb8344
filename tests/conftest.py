"""Shared fixtures: settings on a temporary data dir, a fake encoder, generated PDFs, the real model."""

from __future__ import annotations

import os
import subprocess
import tempfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pactkb.corpus.generate import SAMPLE_DIR
from pactkb.corpus.pdfgen import DocSpec, PageSpec, build_pdf
from pactkb.index.embed import FakeEncoder
from pactkb.settings import Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared"
SHARED_PDF = SHARED / "corpus" / "pdf"


STORE_UNDER_TEST = os.environ.get("PACTKB_TEST_STORE", "sqlite")  # postgres: `settings` share a fresh database


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings on a fresh data dir, fake model, in-process parsing (fast); no dictionaries (tests that need one build
    it) and no Apertium (tests that need it switch it on), so results do not depend on which system packages are
    installed. With PACTKB_TEST_STORE=postgres, on a fresh shared PostgreSQL database (CI runs the API tests so)."""
    base = Settings(
        data=tmp_path / "data",
        model="fake:64",
        parse_workers=0,
        dictionaries="",
        apertium="",
        field_glossaries=False,
        short_passage_weight=1.0,  # the fake model's 64-token chunks are nearly all short: tests that need it set it
    )
    if STORE_UNDER_TEST == "postgres":
        return base.model_copy(update={"database_url": request.getfixturevalue("pg_database")})
    return base


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    """The deterministic hashing encoder (64 dims, 64-token chunks)."""
    return FakeEncoder(dim=64, max_tokens=64)


@pytest.fixture
def sample_dir() -> Path:
    """The bundled sample corpus."""
    return SAMPLE_DIR


def write_pages(path: Path, page: Callable[[int], str], pages: int = 6) -> Path:
    """A text file of `pages` pages (form feeds between them), page i's text given by page(i)."""
    path.write_text("\f".join(page(i) for i in range(pages)), encoding="utf-8")
    return path


@pytest.fixture
def make_pdf(tmp_path: Path) -> Callable[..., Path]:
    """Factory: make_pdf('name.pdf', [["para", ...], ...], **DocSpec options) -> path."""

    def make(name: str, pages: list[list[str | tuple[str, str]]], **kw: object) -> Path:
        specs = [PageSpec([b if isinstance(b, tuple) else ("p", b) for b in page]) for page in pages]
        title = str(kw.pop("title", name))
        return build_pdf(tmp_path / "pdfs" / name, DocSpec(title=title, pages=specs, **kw))  # type: ignore[arg-type]

    return make


def raw_pdf(objects: list[bytes]) -> bytes:
    """Assemble a minimal PDF from object bodies (1-based), with a correct xref table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def content_pdf(stream: bytes, compress: bool = False) -> bytes:
    """A one-page PDF whose page content stream is `stream` (optionally Flate-compressed)."""
    data = zlib.compress(stream, 9) if compress else stream
    filt = b" /Filter /FlateDecode" if compress else b""
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            f"<< /Length {len(data)}{filt.decode()} >>\nstream\n".encode() + data + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


@pytest.fixture(scope="session")
def real_encoder():
    """The default all-MiniLM-L6-v2 (bundled), loaded once per test session."""
    from pactkb.index.embed import SentenceTransformerEncoder

    return SentenceTransformerEncoder("all-MiniLM-L6-v2")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A PostgreSQL server's URL: PACTKB_TEST_DATABASE_URL (CI starts one; it must answer, never skipped), else a
    throwaway server started here with scripts/pg-throwaway and stopped at the end."""
    from pactkb.pg import DatabaseUnavailable, connect

    url = os.environ.get("PACTKB_TEST_DATABASE_URL")
    if url:
        try:
            connect(url).close()
        except DatabaseUnavailable as exc:
            pytest.fail(f"PACTKB_TEST_DATABASE_URL is set but the server does not answer: {exc}")
        yield url
        return
    folder = tempfile.mkdtemp(prefix="pactkb-pg-")  # under /tmp: the server's user must reach it
    script = str(ROOT / "scripts" / "pg-throwaway")
    started = subprocess.run([script, "start", folder], capture_output=True, text=True)
    if started.returncode != 0:
        pytest.fail(f"could not start a throwaway PostgreSQL server: {started.stderr.strip()}")
    try:
        yield started.stdout.strip()
    finally:
        subprocess.run([script, "stop", folder], capture_output=True)


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """The URL of a fresh, empty database on the test server (dropped afterwards)."""
    from pactkb.pg import scratch_database

    with scratch_database(pg_server, "pactkb_test") as url:
        yield url


@pytest.fixture
def pg_database(pg_url: str) -> str:
    """The URL of a fresh database upgraded to the current schema (`pactkb db upgrade`)."""
    from pactkb.migrations import upgrade

    upgrade(pg_url)
    return pg_url


@pytest.fixture
def pg_settings(settings: Settings, pg_database: str) -> Settings:
    """Settings on a fresh data dir sharing a fresh, upgraded PostgreSQL database."""
    return settings.model_copy(update={"database_url": pg_database})


def scanned_pdf(path: Path, lines: list[str]) -> Path:
    """A one-page PDF whose page is only an image of the text (no text layer): OCR must read it."""
    from PIL import Image, ImageDraw, ImageFont
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    image = Image.new("L", (1200, 100 + 80 * len(lines)), 255)
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 44)
    for i, line in enumerate(lines):
        ImageDraw.Draw(image).text((40, 40 + 80 * i), line, font=font, fill=0)
    canvas = Canvas(str(path), pagesize=(image.width * 72 / 300, image.height * 72 / 300))
    canvas.drawImage(ImageReader(image), 0, 0, image.width * 72 / 300, image.height * 72 / 300)
    canvas.save()
    return path
