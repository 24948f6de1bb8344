"""Turn one file (PDF, text, Markdown) into clean pages, headings and metadata."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pactkb.ingest.clean import clean_pages
from pactkb.ingest.language import detect_language
from pactkb.ingest.metadata import apply_overrides, infer_meta
from pactkb.ingest.ocr import OCR_HINT, ocr_available, ocr_pdf_page
from pactkb.ingest.pdf import read_pdf
from pactkb.ingest.sections import detect_headings, headings_from_outline
from pactkb.ingest.types import Heading, IngestError, Page, ParsedDocument

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


def _text_pages(path: Path) -> list[str]:
    """Pages of a text file: form feeds separate pages, otherwise the file is one page."""
    return _read_text_file(path).split("\f")


def _ocr_scanned(path: Path, pages: list[Page], has_images: list[bool], opts: ParseOptions, warnings: list[str]) -> None:
    """Mark pages without a text layer as scanned and OCR them when Tesseract is available."""
    scanned = [p for p, img in zip(pages, has_images) if img and len(p.text.strip()) < opts.ocr_min_chars]
    if not scanned:
        return
    for p in scanned:
        p.scanned = True
    if opts.ocr == "off":
        warnings.append(f"{len(scanned)} scanned page(s) without a text layer; OCR is off")
        return
    if not ocr_available():
        warnings.append(f"{len(scanned)} scanned page(s) without a text layer were not OCR'd; {OCR_HINT}")
        return
    for p in scanned:
        text = clean_pages([ocr_pdf_page(path, p.number, opts.ocr_languages)])[0]
        if text.strip():
            p.text, p.ocr = text, True


def choose_headings(outline: list[Heading], texts: list[str]) -> list[Heading]:
    """The PDF outline when it covers the document, else detected headings if they cover it better."""
    if len(outline) >= max(2, len(texts) // 20):
        return outline
    detected = detect_headings(texts)
    return detected if len(detected) > len(outline) else outline


def parse_file(path: Path, opts: ParseOptions | None = None) -> ParsedDocument:
    """Parse a supported file into a ParsedDocument; raise IngestError with a one-line reason."""
    opts = opts or ParseOptions()
    path = Path(path)
    if not path.is_file():
        raise IngestError("not a file or not readable")
    sha, size = file_sha256(path)
    if size == 0:
        raise IngestError("empty file (0 bytes)")
    suffix = path.suffix.lower()
    warnings: list[str] = []
    info: dict[str, str] = {}
    display_title: str | None = None
    headings: list[Heading]
    if suffix in PDF_SUFFIXES:
        raw = read_pdf(path)
        info = raw.info
        display_title = raw.display_title
        texts = clean_pages(raw.texts)
        pages = [Page(number=i + 1, text=t, label=raw.labels[i]) for i, t in enumerate(texts)]
        _ocr_scanned(path, pages, raw.has_images, opts, warnings)
        texts = [p.text for p in pages]
        headings = choose_headings(headings_from_outline(((e.level, e.title, e.page) for e in raw.outline), texts), texts)
        kind = "pdf"
    elif suffix in TEXT_SUFFIXES | MARKDOWN_SUFFIXES:
        markdown = suffix in MARKDOWN_SUFFIXES
        texts = clean_pages(_text_pages(path))
        pages = [Page(number=i + 1, text=t) for i, t in enumerate(texts)]
        headings = detect_headings(texts, markdown=markdown)
        kind = "markdown" if markdown else "text"
    else:
        raise IngestError(f"unsupported file type {suffix or '(none)'}")
    all_text = "\n".join(p.text for p in pages)
    if not all_text.strip():
        scanned = sum(p.scanned for p in pages)
        hint = f"; {OCR_HINT}" if scanned and not ocr_available() else ""
        raise IngestError(f"no extractable text ({scanned} of {len(pages)} pages scanned without text){hint}")
    meta = infer_meta(path, texts, headings, info, detect_language(all_text[:20000]), display_title)
    apply_overrides(meta, opts.overrides)
    return ParsedDocument(
        path=path, sha256=sha, size=size, kind=kind, pages=pages, headings=headings, meta=meta, warnings=warnings
    )
