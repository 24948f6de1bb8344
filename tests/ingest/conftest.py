"""Fixtures of the ingest tests: every PDF test runs with each page-text extractor."""

from __future__ import annotations

import pytest

from pactkb.ingest.parse import ParseOptions
from pactkb.ingest.types import ParsedDocument
from pactkb.settings import PDF_TEXT_EXTRACTORS


@pytest.fixture(params=PDF_TEXT_EXTRACTORS)
def pdf_text(request: pytest.FixtureRequest) -> str:
    """The name of a page-text extractor (pdfium, pypdf): tests using it run once with each."""
    return str(request.param)


@pytest.fixture
def opts(pdf_text: str) -> ParseOptions:
    """Parse options reading page text with the extractor under test."""
    return ParseOptions(pdf_text=pdf_text)


def read_by(doc: ParsedDocument) -> ParsedDocument:
    """The document, checked to have been read by the extractor asked for (no fallback to pypdf)."""
    assert not any(w.startswith("page text read with") for w in doc.warnings), doc.warnings
    return doc
