"""OCR for scanned pages with the Tesseract command-line tool (Debian package tesseract-ocr)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

from pypdf import PdfReader

OCR_HINT = (
    "install Tesseract to OCR them: apt-get install tesseract-ocr tesseract-ocr-eng "
    "tesseract-ocr-srp tesseract-ocr-hrv tesseract-ocr-bos tesseract-ocr-sqi tesseract-ocr-mkd"
)
RENDER_DPI = 300  # pages are rendered at this resolution, and Tesseract is told so (a PGM does not say it)


@lru_cache(maxsize=1)
def tesseract_languages() -> frozenset[str]:
    """Languages the installed Tesseract knows (empty when Tesseract is missing)."""
    exe = shutil.which("tesseract")
    if exe is None:
        return frozenset()
    try:
        out = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(line.strip() for line in out.splitlines()[1:] if line.strip())


def ocr_available() -> bool:
    """True when Tesseract is installed with at least one language."""
    return bool(tesseract_languages())


def usable_languages(wanted: str) -> str:
    """The '+'-joined subset of wanted languages that is installed (falls back to eng or any)."""
    have = tesseract_languages()
    langs = [lang for lang in wanted.split("+") if lang in have]
    if not langs:
        langs = ["eng"] if "eng" in have else sorted(have)[:1]
    return "+".join(langs)


def _render_page(pdf: Path, page: int, out_dir: Path) -> Path | None:
    """Render one page (1-based) to a greyscale bitmap with pdftoppm, else extract its largest image with pypdf.

    The bitmap is written uncompressed (PGM): Tesseract reads the same pixels as from a PNG (given the resolution,
    which a PGM does not record), and compressing a 300 dpi page to PNG, then decompressing it, cost about a quarter
    of a page's OCR time."""
    exe = shutil.which("pdftoppm")
    if exe is not None:
        prefix = out_dir / "page"
        dpi = str(RENDER_DPI)
        subprocess.run(
            [exe, "-f", str(page), "-l", str(page), "-r", dpi, "-gray", "-singlefile", str(pdf), str(prefix)],
            capture_output=True,
            timeout=120,
            check=False,
        )
        bitmap = prefix.with_suffix(".pgm")
        if bitmap.exists():
            return bitmap
    reader = PdfReader(pdf)
    if reader.is_encrypted:
        reader.decrypt("")
    images = list(reader.pages[page - 1].images)
    if not images:
        return None
    best = max(images, key=lambda im: len(im.data))
    target = out_dir / f"img{Path(best.name).suffix or '.png'}"
    target.write_bytes(best.data)
    return target


def ocr_pdf_page(pdf: Path, page: int, languages: str) -> str:
    """Text of one scanned PDF page via Tesseract ('' if the page has nothing to read)."""
    with tempfile.TemporaryDirectory(prefix="pactkb-ocr-") as tmp:
        image = _render_page(pdf, page, Path(tmp))
        if image is None:
            return ""
        rendered = image.name == "page.pgm"  # else an image taken from the PDF, which records its own resolution
        dpi = ["--dpi", str(RENDER_DPI)] if rendered else []
        result = subprocess.run(
            ["tesseract", str(image), "stdout", "-l", usable_languages(languages), "--psm", "3", *dpi],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},  # OpenMP spinning makes it 7x slower on 2 cores
        )
        return result.stdout
