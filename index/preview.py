"""Page previews: a PDF page rendered as an image (pypdfium2), optionally with a passage highlighted from the
page's own text positions; rendered in a worker process (bounded in time) and cached on disk (bounded in size)."""

from __future__ import annotations

import hashlib
import io
import multiprocessing
import os
import re
import threading
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RENDERER_VERSION = "1"
FORMATS = {"png": "image/png", "webp": "image/webp"}
HIGHLIGHT = (255, 214, 0, 96)  # translucent yellow over the text
ANCHOR_WORDS = 4  # words that must match in a row to anchor each end of the highlight
_WORD = re.compile(r"\w+", re.UNICODE)


class PreviewError(Exception):
    """The page cannot be rendered (bad PDF, no such page, took too long); the message says why."""


@dataclass(frozen=True)
class PreviewRequest:
    """What to render: a stored PDF's page at a width, as PNG or WebP, with a passage to highlight (or none)."""

    pdf: Path
    sha256: str
    page: int
    width: int
    fmt: str
    highlight: str = ""

    def key(self) -> str:
        """Cache key and ETag: the file's content, the page, the size, the format and the passage."""
        text = hashlib.sha256(self.highlight.encode("utf-8")).hexdigest()[:16] if self.highlight else "-"
        raw = f"{RENDERER_VERSION}|{self.sha256}|{self.page}|{self.width}|{self.fmt}|{text}"
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


def _words(text: str) -> list[tuple[str, int, int]]:
    """Lower-cased words with their character spans."""
    return [(m.group().lower(), m.start(), m.end()) for m in _WORD.finditer(text)]


def find_passage(page_text: str, passage: str, anchor: int = ANCHOR_WORDS) -> tuple[int, int] | None:
    """Character span of the passage's part on this page: its first and last `anchor` words must each occur in a row
    (the part on the page may be its start, its end or all of it); None unless both ends are found in order."""
    page_words = _words(page_text)
    want = [w for w, _, _ in _words(passage)]
    if len(want) < anchor or len(page_words) < anchor:
        return None
    seq = [w for w, _, _ in page_words]
    index: dict[tuple[str, ...], list[int]] = {}
    for i in range(len(seq) - anchor + 1):
        index.setdefault(tuple(seq[i : i + anchor]), []).append(i)

    def first_match(offsets: range) -> tuple[int, int] | None:
        for j in offsets:
            hits = index.get(tuple(want[j : j + anchor]))
            if hits and len(hits) == 1:  # an ambiguous anchor could highlight the wrong place
                return j, hits[0]
        return None

    start = first_match(range(0, len(want) - anchor + 1))
    end = first_match(range(len(want) - anchor, -1, -1))
    if start is None or end is None:
        return None
    (ws, ps), (we, pe) = start, end
    if pe < ps or we < ws:
        return None
    span_words, passage_words = pe + anchor - ps, we + anchor - ws
    if not 0.8 * passage_words <= span_words <= 1.25 * passage_words + 5:  # the text between the anchors must fit
        return None
    return page_words[ps][1], page_words[pe + anchor - 1][2]


def _line_boxes(textpage, start: int, end: int) -> list[tuple[float, float, float, float]]:  # noqa: ANN001
    """PDF-space rectangles (left, bottom, right, top) covering characters start..end."""
    count = textpage.count_rects(start, end - start)
    return [textpage.get_rect(i) for i in range(count)]


def render(req: PreviewRequest) -> bytes:
    """Render the page (in the worker process): the image bytes, with the passage highlighted when it is found."""
    import pypdfium2 as pdfium
    from PIL import Image, ImageDraw

    try:
        pdf = pdfium.PdfDocument(str(req.pdf))
    except Exception as exc:
        raise PreviewError(f"cannot open the PDF: {exc}") from exc
    try:
        if not 1 <= req.page <= len(pdf):
            raise PreviewError(f"no page {req.page} (the document has {len(pdf)})")
        page = pdf[req.page - 1]
        width_pt, height_pt = page.get_size()
        scale = req.width / width_pt
        scale = min(scale, 4 * req.width / max(height_pt, 1))  # a page strip cannot become an enormous image
        image = page.render(scale=scale).to_pil().convert("RGB")
        if image.width > req.width:  # pdfium rounds the size up
            image = image.crop((0, 0, req.width, image.height))
        if req.highlight:
            textpage = page.get_textpage()
            text = textpage.get_text_range()
            span = find_passage(text, req.highlight)
            if span is not None:
                overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
                draw = ImageDraw.Draw(overlay)
                crop_left, _, _, crop_top = page.get_cropbox()
                for left, bottom, right, top in _line_boxes(textpage, *span):
                    box = (
                        (left - crop_left) * scale - 1,
                        (crop_top - top) * scale - 1,
                        (right - crop_left) * scale + 1,
                        (crop_top - bottom) * scale + 1,
                    )
                    draw.rectangle(box, fill=HIGHLIGHT)
                image = Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")
        out = io.BytesIO()
        image.save(out, format=req.fmt.upper(), **({"optimize": True} if req.fmt == "png" else {"quality": 80}))
        return out.getvalue()
    finally:
        pdf.close()


class Previews:
    """Renders in one worker process (a page that takes too long is abandoned) and keeps results in a folder whose
    size is bounded (least recently used first out)."""

    def __init__(self, folder: Path, max_bytes: int, timeout: float) -> None:
        """The cache folder is created on first use."""
        self.folder, self.max_bytes, self.timeout = folder, max_bytes, timeout
        self._pool: Any = None  # a pebble ProcessPool, started on first render
        self._lock = threading.Lock()

    def image(self, req: PreviewRequest) -> bytes:
        """The cached image, rendering it first if needed; PreviewError when it cannot be rendered in time."""
        path = self.folder / f"{req.key()}.{req.fmt}"
        try:
            data = path.read_bytes()
            os.utime(path)  # recently used
            return data
        except FileNotFoundError:
            pass
        data = self._render(req)
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        self._evict()
        return data

    def _render(self, req: PreviewRequest) -> bytes:
        """Run render() in the worker process with a time limit."""
        from pebble import ProcessPool

        with self._lock:
            if self._pool is None:
                self._pool = ProcessPool(max_workers=1, context=multiprocessing.get_context("spawn"))
            future = self._pool.schedule(render, args=(req,), timeout=self.timeout)
        try:
            return future.result()
        except FutureTimeout as exc:
            raise PreviewError(f"rendering took longer than {self.timeout:g} s") from exc
        except PreviewError:
            raise
        except Exception as exc:
            raise PreviewError(f"cannot render the page: {type(exc).__name__}") from exc

    def _evict(self) -> None:
        """Delete the least recently used images until the folder is within its size."""
        files = []
        for entry in os.scandir(self.folder):
            try:
                if not entry.name.endswith(".tmp"):  # another request's image being written
                    st = entry.stat()
                    files.append((st.st_mtime, st.st_size, Path(entry.path)))
            except FileNotFoundError:  # evicted by another request meanwhile
                continue
        total = sum(size for _, size, _ in files)
        for _, size, path in sorted(files):
            if total <= self.max_bytes:
                break
            path.unlink(missing_ok=True)
            total -= size

    def close(self) -> None:
        """Stop the worker process."""
        with self._lock:
            if self._pool is not None:
                self._pool.stop()
                self._pool.join(timeout=5)
                self._pool = None
