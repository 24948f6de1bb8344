"""Turn one file (PDF, text, Markdown) into clean pages, headings and metadata."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pactkb.ingest.clean import clean_notes, clean_pages
from pactkb.ingest.language import detect_language
from pactkb.ingest.layout import body_size, split_page
from pactkb.ingest.metadata import apply_overrides, infer_meta, inferred_from_title
from pactkb.ingest.ocr import OCR_HINT, ocr_available, ocr_pdf_page
from pactkb.ingest.pdf import RawPdf, read_pdf
from pactkb.ingest.regions import mark_front_matter, page_region
from pactkb.ingest.sections import detect_headings, headings_from_outline
from pactkb.ingest.types import DocumentMeta, Heading, IngestError, Page, ParsedDocument
from pactkb.settings import DEFAULT_PDF_TEXT, Settings

PDF_SUFFIXES = {".pdf"}
TEXT_SUFFIXES = {".txt", ".text"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
SUPPORTED_SUFFIXES = PDF_SUFFIXES | TEXT_SUFFIXES | MARKDOWN_SUFFIXES


@dataclass
class ParseOptions:
    """How to parse: OCR settings and metadata overrides for this file."""

    ocr: str = "auto"
    ocr_languages: str = "eng"
    ocr_min_chars: int = 25
    overrides: dict[str, Any] = field(default_factory=dict)
    pdf_text: str = DEFAULT_PDF_TEXT  # the page-text extractor (ingest/pdf_text.py)
    running_by_parity: bool = False  # running headers also recognised over the odd or the even pages (ingest/clean.py)

    @classmethod
    def from_settings(
        cls, settings: Settings, overrides: Mapping[str, Any] | None = None, pdf_text: str | None = None
    ) -> ParseOptions:
        """The options in force (the one place they are read from Settings), with a file's metadata overrides and the
        PDF text extractor to read it with (None: the configured one; an ingestion passes its store's)."""
        return cls(
            settings.ocr,
            settings.ocr_languages,
            settings.ocr_min_chars,
            dict(overrides or {}),
            pdf_text or settings.pdf_text,
            settings.running_headers_by_parity,
        )


def file_sha256(path: Path) -> tuple[str, int]:
    """Content hash and size of a file."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


def _read_text_file(path: Path) -> str:
    """Decode a text file as UTF-8 (falling back to Windows-1250/1252), rejecting binary content."""
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise IngestError("not a text file (binary content)")
    for encoding in ("utf-8-sig", "cp1250", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


TEXT_CHARS_PER_PAGE = 3000


def estimate_pages(path: Path) -> int:
    """Pages a file will yield, cheaply (PDF page tree, or text length / 3000): a progress bar's unit of work.
    Never raises: a file that cannot be opened counts as one page (parsing reports the real error)."""
    try:
        if path.suffix.lower() == ".pdf":
            from pactkb.ingest.pdf import _open

            return max(1, len(_open(path)[0].pages))
        return max(1, -(-path.stat().st_size // TEXT_CHARS_PER_PAGE))
    except Exception:  # noqa: BLE001 - an estimate only
        return 1


def _text_pages(path: Path) -> list[str]:
    """Pages of a text file: form feeds separate pages, otherwise the file is one page."""
    return _read_text_file(path).split("\f")


def mark_scanned(pages: list[Page], has_images: list[bool], min_chars: int) -> int:
    """Flag pages that carry an image but (almost) no text layer; returns how many."""
    n = 0
    for p, img in zip(pages, has_images, strict=False):
        if img and len(p.full_text.strip()) < min_chars:
            p.scanned = True
            n += 1
    return n


def run_ocr(doc: ParsedDocument, opts: ParseOptions) -> ParsedDocument:
    """OCR the scanned pages of a parsed PDF (when Tesseract is available) and finish the document."""
    scanned = [p for p in doc.pages if p.scanned and not p.ocr]
    if scanned and opts.ocr != "off" and ocr_available():
        for p in scanned:
            text = ocr_pdf_page(doc.path, p.number, opts.ocr_languages)
            if text.strip():
                p.text, p.ocr = text, True
        # clean again across all pages, so running headers of OCR'd pages are recognised as such
        for p, text in zip(doc.pages, clean_pages([p.text for p in doc.pages], opts.running_by_parity), strict=False):
            p.text = text
    return finish(doc)


def finish(doc: ParsedDocument) -> ParsedDocument:
    """Headings, metadata and warnings once page text is final; raise if nothing is searchable."""
    texts = [p.text for p in doc.pages]
    not_ocrd = sum(1 for p in doc.pages if p.scanned and not p.ocr)
    if not "".join(texts).strip():
        hint = f"; {OCR_HINT}" if not_ocrd and not ocr_available() else ""
        raise IngestError(f"no extractable text ({not_ocrd} of {len(doc.pages)} pages scanned without text){hint}")
    if not_ocrd:
        why = OCR_HINT if not ocr_available() else "OCR found no text"
        doc.warnings.append(f"{not_ocrd} scanned page(s) without a text layer were not OCR'd; {why}")
    for page in doc.pages:
        page.region = page_region(page.text)
    if doc.kind == "pdf":
        mark_front_matter(doc.pages)
        doc.headings = choose_headings(headings_from_outline(doc.outline, texts), doc.pages)
    else:
        doc.headings = detect_headings(texts, markdown=doc.kind == "markdown", regions=[p.region for p in doc.pages])
    all_text = "\n".join(texts)
    doc.meta = infer_meta(doc.path, texts, doc.headings, doc.info, detect_language(all_text[:20000]), doc.display_title)
    apply_overrides(doc.meta, dict(doc.overrides))
    if "title" in doc.overrides:
        for key, value in inferred_from_title(doc.meta.title, texts, doc.meta.inferred, doc.info).items():
            setattr(doc.meta, key, value)
    return doc


def choose_headings(outline: list[Heading], pages: list[Page]) -> list[Heading]:
    """The PDF outline when it covers the document, else detected headings if they cover it better."""
    if len(outline) >= max(2, len(pages) // 20):
        return outline
    detected = detect_headings(
        [p.text for p in pages],
        regions=[p.region for p in pages],
        typography=[(p.heading_lines, p.body_lines) for p in pages],
    )
    return detected if len(detected) > len(outline) else outline


def pdf_pages(raw: RawPdf, by_parity: bool = False) -> list[Page]:
    """Clean pages of a PDF: footnote blocks cut out of the body text, typography of the body lines kept."""
    body = body_size(raw.layouts) if raw.layouts else None
    layouts = raw.layouts or [None] * len(raw.texts)
    printed = raw.extractor == "pdfium"  # sizes as printed: a note mark is smaller than its note (layout.small_type)
    split = [split_page(text, layout, body, printed) for text, layout in zip(raw.texts, layouts, strict=False)]
    bodies = clean_pages([r.body for r in split], by_parity)
    notes = clean_notes([r.notes for r in split], bodies)
    return [
        Page(
            number=i + 1,
            text=bodies[i],
            label=raw.labels[i],
            notes=notes[i],
            heading_lines=r.heading_lines,
            body_lines=r.body_lines,
        )
        for i, r in enumerate(split)
    ]


def extract(path: Path, opts: ParseOptions | None = None) -> ParsedDocument:
    """Read a file into pages (scanned pages flagged, not yet OCR'd); raise IngestError on bad input."""
    opts = opts or ParseOptions()
    path = Path(path)
    if not path.is_file():
        raise IngestError("not a file or not readable")
    sha, size = file_sha256(path)
    if size == 0:
        raise IngestError("empty file (0 bytes)")
    suffix = path.suffix.lower()
    doc = ParsedDocument(
        path=path,
        sha256=sha,
        size=size,
        kind="",
        pages=[],
        headings=[],
        meta=DocumentMeta(),
        overrides=dict(opts.overrides),
    )
    if suffix in PDF_SUFFIXES:
        raw = read_pdf(path, opts.pdf_text)
        doc.kind, doc.info, doc.display_title, doc.pdf_text = "pdf", raw.info, raw.display_title, raw.extractor
        doc.warnings.extend(raw.warnings)
        doc.outline = [(e.level, e.title, e.page) for e in raw.outline]
        doc.pages = pdf_pages(raw, opts.running_by_parity)
        mark_scanned(doc.pages, raw.has_images, opts.ocr_min_chars)
    elif suffix in TEXT_SUFFIXES | MARKDOWN_SUFFIXES:
        doc.kind = "markdown" if suffix in MARKDOWN_SUFFIXES else "text"
        doc.pages = [
            Page(number=i + 1, text=t) for i, t in enumerate(clean_pages(_text_pages(path), opts.running_by_parity))
        ]
    else:
        raise IngestError(f"unsupported file type {suffix or '(none)'}")
    return doc


def parse_file(path: Path, opts: ParseOptions | None = None) -> ParsedDocument:
    """Parse a supported file into a ParsedDocument (OCR included); raise IngestError with a one-line reason."""
    opts = opts or ParseOptions()
    return run_ocr(extract(path, opts), opts)
