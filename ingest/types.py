"""Data that crosses the ingestion boundary: pages, sections, parsed documents and chunks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

DOC_TYPES: tuple[str, ...] = (
    "guideline",
    "booklet",
    "threat assessment",
    "report",
    "legislation",
    "training material",
    "other",
)
AREAS: tuple[str, ...] = (
    "fraud/economic/financial crime",
    "drugs trafficking",
    "high-risk criminal networks",
    "cyber-attacks",
    "migrant smuggling",
    "counter-terrorism",
    "cross-cutting",
)
META_FIELDS: tuple[str, ...] = (
    "title",
    "publisher",
    "year",
    "language",
    "doc_type",
    "areas",
    "sensitivity",
)


class IngestError(Exception):
    """A file could not be ingested; the message is a one-line reason."""


@dataclass
class Page:
    """One physical page: 1-based number, printed label (if the PDF defines labels) and clean text."""

    number: int
    text: str
    label: str | None = None
    ocr: bool = False
    scanned: bool = False
    notes: str = ""  # the footnote block printed at the foot of the page, kept out of the body text
    region: str = "body"  # what the page's body is: body, contents, index, references or front (ingest/regions.py)
    heading_lines: dict[str, float] = field(default_factory=dict)  # lines set like headings (squashed) -> size
    body_lines: set[str] = field(default_factory=set)  # lines set like body text

    @property
    def full_text(self) -> str:
        """Body text followed by the page's footnotes, as printed."""
        return f"{self.text}\n\n{self.notes}" if self.notes else self.text


@dataclass
class Heading:
    """A section heading: nesting level (1 = top), title, and where it starts (page, char offset)."""

    level: int
    title: str
    page: int
    offset: int = 0


@dataclass
class DocumentMeta:
    """Document metadata; `inferred` names the fields that were guessed rather than given."""

    title: str = ""
    publisher: str | None = None
    year: int | None = None
    language: str | None = None
    doc_type: str = "other"
    areas: list[str] = field(default_factory=list)
    sensitivity: str = "public"
    inferred: list[str] = field(default_factory=list)
    series: str | None = None  # the family of editions this document belongs to (manifest `series`)
    edition: str | None = None  # its place in that family (manifest `edition`: '2025', '21', '3.1')


@dataclass
class ParsedDocument:
    """A file turned into clean pages, headings and inferred metadata."""

    path: Path
    sha256: str
    size: int
    kind: str  # "pdf" | "text" | "markdown"
    pages: list[Page]
    headings: list[Heading]
    meta: DocumentMeta
    warnings: list[str] = field(default_factory=list)
    info: dict[str, str] = field(default_factory=dict)
    outline: list[tuple[int, str, int]] = field(default_factory=list)
    display_title: str | None = None
    overrides: dict[str, object] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)  # seconds spent per stage in the parser (parse, ocr)
    chunks: list[Chunk] | None = None  # chunked already (by a parse worker), else None
    pdf_text: str = ""  # who read a PDF's page text (ingest/pdf_text.py: pdfium or pypdf)

    @property
    def needs_ocr(self) -> bool:
        """Scanned pages still without text."""
        return any(p.scanned and not p.ocr for p in self.pages)

    @property
    def pages_ocr(self) -> int:
        """Pages whose text came from OCR."""
        return sum(1 for p in self.pages if p.ocr)

    @property
    def pages_scanned(self) -> int:
        """Pages with no text layer (OCR'd or not)."""
        return sum(1 for p in self.pages if p.scanned)


@dataclass
class Chunk:
    """A retrievable passage of one document with its exact physical page span."""

    ord: int
    text: str
    page_start: int
    page_end: int
    label_start: str | None = None
    label_end: str | None = None
    section: str = ""
    n_tokens: int = 0
    region: str = "body"  # body, footnote, contents, index, references, front or acronyms (ingest/regions.py)
