"""Shared fixtures: settings on a temporary data dir, a fake encoder, generated PDFs, the real model."""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from pactkb.corpus.generate import SAMPLE_DIR
from pactkb.corpus.pdfgen import DocSpec, PageSpec, build_pdf
from pactkb.index.embed import FakeEncoder
from pactkb.settings import Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
SHARED = Path(__file__).resolve().parents[2] / "shared"
SHARED_PDF = SHARED / "corpus" / "pdf"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings on a fresh data dir, fake model, in-process parsing (fast); no dictionaries (tests that need one build
    it) and no Apertium (tests that need it switch it on), so results do not depend on which system packages are
    installed."""
    return Settings(
        data=tmp_path / "data", model="fake:64", parse_workers=0, dictionaries="", apertium="", field_glossaries=False
    )


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    """The deterministic hashing encoder (64 dims, 64-token chunks)."""
    return FakeEncoder(dim=64, max_tokens=64)


@pytest.fixture
def sample_dir() -> Path:
    """The bundled sample corpus."""
    return SAMPLE_DIR


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
