"""Read a PDF: raw text per physical page (ingest/pdf_text.py: PDFium or pypdf), and with pypdf the decryption,
printed page labels, outline and metadata."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.errors import DependencyError, PdfReadError

from pactkb.ingest.layout import PageLayout, TextRun, page_layout
from pactkb.ingest.pdf_text import ExtractorUnavailable, PageText, PypdfText, text_extractor
from pactkb.ingest.types import IngestError
from pactkb.settings import DEFAULT_PDF_TEXT

logging.getLogger("pypdf").setLevel(logging.ERROR)

PDF_MAGIC = b"%PDF-"


@dataclass
class OutlineEntry:
    """One bookmark: nesting level (1 = top), title and 1-based physical page."""

    level: int
    title: str
    page: int


@dataclass
class RawPdf:
    """What pypdf gives us before cleaning."""

    texts: list[str]
    labels: list[str | None]
    outline: list[OutlineEntry]
    info: dict[str, str] = field(default_factory=dict)
    has_images: list[bool] = field(default_factory=list)
    encrypted: bool = False
    display_title: str | None = None
    layouts: list[PageLayout | None] = field(default_factory=list)
    extractor: str = DEFAULT_PDF_TEXT  # who read the page text (pdfium or pypdf)
    warnings: list[str] = field(default_factory=list)


def looks_like_pdf(head: bytes) -> bool:
    """True when the first bytes carry the PDF signature (allowing leading junk within 1 KiB)."""
    return PDF_MAGIC in head[:1024]


def _open(path: Path) -> tuple[PdfReader, bool]:
    """Open a PDF, decrypting it with the empty user password when it is encrypted."""
    with open(path, "rb") as fh:
        head = fh.read(1024)
    if not head:
        raise IngestError("empty file (0 bytes)")
    if not looks_like_pdf(head):
        raise IngestError("not a PDF (no %PDF- signature in the first bytes)")
    try:
        reader = PdfReader(path, strict=False)
    except (PdfReadError, ValueError, KeyError, TypeError, IndexError, AssertionError) as exc:
        raise IngestError(f"corrupt or truncated PDF: {exc}") from exc
    encrypted = bool(reader.is_encrypted)
    if encrypted:
        try:
            ok = reader.decrypt("")
        except (NotImplementedError, DependencyError) as exc:
            raise IngestError(f"encrypted PDF needs a missing crypto library: {exc}") from exc
        if not ok:
            raise IngestError("password-protected PDF (a password is required to open it)")
    return reader, encrypted


def _labels(reader: PdfReader) -> list[str | None]:
    """Printed page labels when the PDF defines /PageLabels, else None for every page."""
    n = len(reader.pages)
    try:
        root = reader.trailer["/Root"]
        if "/PageLabels" not in root:
            return [None] * n
        labels = list(reader.page_labels)
        return [str(x) if x is not None else None for x in labels[:n]] + [None] * max(0, n - len(labels))
    except Exception:  # noqa: BLE001 - malformed label trees are common; labels are optional
        return [None] * n


def _outline(reader: PdfReader) -> list[OutlineEntry]:
    """Flatten the bookmark tree into (level, title, page) in document order."""
    entries: list[OutlineEntry] = []

    def walk(items: list[Any], level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
                continue
            try:
                page = reader.get_destination_page_number(item)
                title = str(item.title or "").strip()
            except Exception:  # noqa: BLE001 - broken destinations are skipped
                continue
            if page is not None and page >= 0 and title:
                entries.append(OutlineEntry(level=level, title=re.sub(r"\s+", " ", title), page=page + 1))

    try:
        walk(reader.outline, 1)
    except Exception:  # noqa: BLE001 - outline is optional
        return []
    return entries


def _info(reader: PdfReader) -> dict[str, str]:
    """Document info dictionary as plain strings (Title, Author, Subject, CreationDate...)."""
    try:
        meta = reader.metadata or {}
        return {str(k).lstrip("/"): str(v) for k, v in meta.items() if v is not None}
    except Exception:  # noqa: BLE001
        return {}


def _page_has_images(page: Any) -> bool:
    """True when a page's resources reference at least one image XObject."""
    try:
        resources = page.get("/Resources") or {}
        xobjects = resources.get("/XObject") or {}
        return any(xobjects[name].get_object().get("/Subtype") == "/Image" for name in xobjects)
    except Exception:  # noqa: BLE001
        return False


def _display_title(runs: list[TextRun]) -> str | None:
    """The largest-font text on a page (a cover's title), joined in reading order."""
    spans = [(round(r.size, 1), " ".join(r.text.split())) for r in runs if sum(ch.isalpha() for ch in r.text) >= 2]
    if not spans:
        return None
    top = max(size for size, _ in spans)
    words: list[str] = []
    started = False
    for size, text in spans:
        if size >= 0.85 * top:
            words.extend(text.split())
            started = True
        elif started and len(words) >= 2:
            break
    title = " ".join(words)
    return title if 2 <= len(words) <= 30 else None


def _page_texts(path: Path, reader: PdfReader, extractor: str) -> tuple[list[PageText | None], str, list[str]]:
    """Every page's text and runs by the named extractor, or by pypdf when that one cannot read the file: the pages,
    who read them, and a warning saying why the fallback was needed."""
    chosen = text_extractor(extractor)
    try:
        return chosen.pages(path, reader), chosen.name, []
    except ExtractorUnavailable as exc:
        fallback = PypdfText()
        note = f"page text read with {fallback.name}: {exc}"
        return fallback.pages(path, reader), fallback.name, [note]


def read_pdf(path: Path, extractor: str = DEFAULT_PDF_TEXT) -> RawPdf:
    """Extract raw text per physical page plus labels, outline and info; raise IngestError on bad input."""
    reader, encrypted = _open(path)
    try:
        pages, used, warnings = _page_texts(path, reader, extractor)
        texts: list[str] = []
        layouts: list[PageLayout | None] = []
        title: str | None = None
        for i, page in enumerate(pages):
            if page is None:
                texts.append("")
                layouts.append(None)
                continue
            if i == 0:
                title = _display_title(page.runs)
            texts.append(page.text)
            layouts.append(page_layout(page.text, page.runs))
        images = [_page_has_images(page) for page in reader.pages]
    except IngestError:
        raise
    except Exception as exc:
        raise IngestError(f"corrupt PDF (cannot read page tree): {exc}") from exc
    if not texts:
        raise IngestError("PDF has no pages")
    return RawPdf(
        texts=texts,
        labels=_labels(reader),
        outline=_outline(reader),
        info=_info(reader),
        has_images=images,
        encrypted=encrypted,
        display_title=title,
        layouts=layouts,
        extractor=used,
        warnings=warnings,
    )
