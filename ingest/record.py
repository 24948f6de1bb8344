"""In-memory text records (e.g. a BEIR corpus) as parsed documents, so they enter the same pipeline as files."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pactkb.ingest.clean import clean_pages
from pactkb.ingest.metadata import apply_overrides
from pactkb.ingest.types import DocumentMeta, Page, ParsedDocument


@dataclass
class Record:
    """An in-memory document: id, title, text and optional metadata overrides."""

    id: str
    title: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


def record_document(rec: Record) -> ParsedDocument:
    """A parsed document for a text record (form feeds separate pages)."""
    texts = clean_pages(rec.text.split("\f"))
    meta = DocumentMeta(title=rec.title or rec.id, inferred=[])
    apply_overrides(meta, rec.metadata)
    return ParsedDocument(
        path=Path(rec.id),
        sha256=hashlib.sha256(f"{rec.id}\0{rec.title}\0{rec.text}".encode()).hexdigest(),
        size=len(rec.text.encode()),
        kind="record",
        pages=[Page(i + 1, t) for i, t in enumerate(texts)],
        headings=[],
        meta=meta,
    )
