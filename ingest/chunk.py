"""Split a document's pages into token-bounded chunks that know their exact page span and section."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from langchain_text_splitters import RecursiveCharacterTextSplitter

from pactkb.ingest.sections import SectionIndex
from pactkb.ingest.types import Chunk, Page, ParsedDocument

PAGE_BREAK = "\f"
SEPARATORS = [r"\f|\n\n", r"\n", r"(?<=[.!?])\s", r";\s", r",\s", r"\s", ""]
# PDFium's text, whose paragraph breaks come from geometry (ingest/pdf_text.py): a page break before a paragraph break,
# so short paragraphs fill a chunk within their page instead of spreading chunks over page breaks
PAGES_FIRST = [r"\f", r"\n\n", *SEPARATORS[1:]]
MIN_TOKENS = 24  # fragments smaller than this (a lone heading, a page-tail footnote) join a neighbour
_HAS_WORD = re.compile(r"\w", re.UNICODE)

TokenCounter = Callable[[str], int]


@dataclass(frozen=True)
class TokenizerCounter:
    """Word pieces of a Hugging Face tokenizer, without special tokens; picklable, so a parse worker can count. A fast
    tokenizer is called directly (its Rust core, many texts in one call), as the tokenizer's own wrapper would call it
    when neither truncating nor padding; otherwise through the wrapper."""

    tokenizer: Any

    def __call__(self, text: str) -> int:
        """Number of word pieces."""
        return self.count_batch([text])[0]

    def count_batch(self, texts: list[str]) -> list[int]:
        """Number of word pieces of each text, counted in one call."""
        core = getattr(self.tokenizer, "backend_tokenizer", None)
        if core is not None and core.truncation is None and core.padding is None:
            encode = getattr(core, "encode_batch_fast", core.encode_batch)  # no character offsets: not needed here
            return [len(e) for e in encode(texts, add_special_tokens=False)]
        return [len(ids) for ids in self.tokenizer(texts, add_special_tokens=False, verbose=False)["input_ids"]]


class CountMemo:
    """A token counter that remembers what it counted (one document's splits are measured several times over by the
    splitter, the hard split and the merge) and counts texts given in advance in one batch."""

    def __init__(self, count: TokenCounter) -> None:
        """Remember the counts of `count`."""
        self.count = count
        self.known: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        """Number of tokens of a text (counted once)."""
        n = self.known.get(text)
        if n is None:
            n = self.known[text] = self.count(text)
        return n

    def prime(self, texts: list[str]) -> None:
        """Count the texts not counted yet, together (in one call when the counter counts batches)."""
        new = list(dict.fromkeys(t for t in texts if t not in self.known))
        if not new:
            return
        batch = getattr(self.count, "count_batch", None)
        self.known.update(zip(new, batch(new) if batch is not None else map(self.count, new), strict=True))


@dataclass(frozen=True)
class Chunker:
    """The chunk stage for one encoder's token limits: a parsed document's chunks (picklable when its counter is)."""

    count: TokenCounter
    max_tokens: int
    target: int
    overlap: int

    def __call__(self, doc: ParsedDocument) -> list[Chunk]:
        """Chunks of a parsed document."""
        return chunk_pages(
            doc.pages,
            SectionIndex(doc.headings),
            self.count,
            self.max_tokens,
            target=self.target,
            overlap=self.overlap,
            pages_first=doc.pdf_text == "pdfium",
        )


def tidy(text: str) -> str:
    """Chunk text for storage: page breaks and blank lines become one newline, other wraps a space."""
    text = re.sub(r"[ \t]*(?:\f|\n[ \t]*\n)[\s]*", "\u2029", text)
    text = re.sub(r"\s*\n\s*", " ", text)
    return text.replace("\u2029", "\n").strip()


def _first_splits(text: str, separators: tuple[str, ...] = tuple(SEPARATORS[:-1]), depth: int = 2) -> list[str]:
    """The splits the splitter measures first (the text cut after each match of the first separator it contains),
    and `depth` - 1 levels of their own splits (pages, then their paragraphs), to count them in one batch beforehand."""
    for i, sep in enumerate(separators):
        if re.search(sep, text):
            parts = re.split(f"({sep})", text)
            pieces = [p for p in [*map("".join, zip(parts[::2], parts[1::2], strict=False)), parts[-1]] if p]
            if depth > 1:
                pieces += [s for p in pieces for s in _first_splits(p, separators[i + 1 :], depth - 1)]
            return pieces
    return []


def _hard_split(text: str, count: TokenCounter, max_tokens: int) -> list[str]:
    """Split text at whitespace into pieces of at most max_tokens (for splits the splitter left too long)."""
    if count(text) <= max_tokens:
        return [text]
    words = text.split(" ")
    if len(words) == 1:  # one enormous 'word': cut by characters
        mid = len(text) // 2
        return _hard_split(text[:mid], count, max_tokens) + _hard_split(text[mid:], count, max_tokens)
    mid = len(words) // 2
    left, right = " ".join(words[:mid]), " ".join(words[mid:])
    return _hard_split(left, count, max_tokens) + _hard_split(right, count, max_tokens)


def make_splitter(
    count: TokenCounter, target: int, overlap: int, separators: list[str] = SEPARATORS
) -> RecursiveCharacterTextSplitter:
    """A recursive splitter measuring length in the embedding model's tokens."""
    return RecursiveCharacterTextSplitter(
        chunk_size=target,
        chunk_overlap=min(overlap, max(0, target // 2)),
        length_function=count,
        separators=separators,
        is_separator_regex=True,
        keep_separator="end",
        strip_whitespace=True,
    )


def chunk_pages(
    pages: list[Page],
    sections: SectionIndex,
    count: TokenCounter,
    max_tokens: int,
    target: int | None = None,
    overlap: int = 32,
    pages_first: bool = False,
) -> list[Chunk]:
    """Chunk one document; every chunk has <= max_tokens tokens and the physical pages it came from (`pages_first`:
    split at page breaks before paragraph breaks, see PAGES_FIRST)."""
    target = min(target or max_tokens, max_tokens)
    memo = CountMemo(count)
    starts: list[int] = []
    parts: list[str] = []
    pos = 0
    for page in pages:
        starts.append(pos)
        parts.append(page.text)
        pos += len(page.text) + len(PAGE_BREAK)
    full = PAGE_BREAK.join(parts)
    separators = PAGES_FIRST if pages_first else SEPARATORS
    splitter = make_splitter(memo, target, overlap, separators)
    spans: list[tuple[int, int, int]] = []  # (start, end, tokens) in `full`
    region_changes = {starts[i] for i in range(1, len(pages)) if pages[i].region != pages[i - 1].region}
    bounds = sorted(
        {0, len(full)}
        | region_changes
        | {starts[h.page - 1] + h.offset for h in sections.headings if 1 <= h.page <= len(pages)}
    )
    for seg_start, seg_end in zip(bounds, bounds[1:], strict=False):
        segment = full[seg_start:seg_end]
        memo.prime(_first_splits(segment, tuple(separators[:-1])))
        pieces = splitter.split_text(segment)
        memo.prime(pieces)
        cursor = 0
        for piece in pieces:
            piece_at = segment.find(piece, cursor)
            if piece_at < 0:  # defensive: the splitter only returns substrings
                piece_at = segment.find(piece)
            at = piece_at
            for sub in _hard_split(piece, memo, max_tokens):
                sub_at = segment.find(sub, at)
                if _HAS_WORD.search(sub):
                    spans.append((seg_start + sub_at, seg_start + sub_at + len(sub), memo(sub)))
                at = sub_at + 1
            cursor = piece_at + 1
    spans = _merge_small(
        spans, full, memo, target, sorted(region_changes)
    )  # merged chunks stay within the chunk size, not just the model limit; a chunk never spans two regions
    chunks: list[Chunk] = []
    for start, end, tokens in spans:
        first = bisect.bisect_right(starts, start) - 1
        last = bisect.bisect_right(starts, end - 1) - 1
        chunks.append(
            Chunk(
                ord=len(chunks),
                text=tidy(full[start:end]),
                page_start=pages[first].number,
                page_end=pages[last].number,
                label_start=pages[first].label,
                label_end=pages[last].label,
                section=sections.path_at(pages[first].number, start - starts[first]),
                n_tokens=tokens,
                region=pages[first].region,
            )
        )
    notes = _note_chunks(pages, sections, splitter, memo, max_tokens)
    if not notes:
        return chunks
    ordered = sorted(
        [(c.page_start, 0, c.ord, c) for c in chunks] + [(c.page_start, 1, i, c) for i, c in enumerate(notes)],
        key=lambda t: t[:3],
    )
    for i, (*_, c) in enumerate(ordered):
        c.ord = i
    return [c for *_, c in ordered]


def _note_chunks(
    pages: list[Page],
    sections: SectionIndex,
    splitter: RecursiveCharacterTextSplitter,
    count: CountMemo,
    max_tokens: int,
) -> list[Chunk]:
    """Chunks of each page's footnote block, kept apart from the body text they annotate."""
    out: list[Chunk] = []
    for page in pages:
        if not page.notes.strip():
            continue
        section = sections.path_at(page.number, len(page.text))
        pieces = splitter.split_text(page.notes)
        count.prime(pieces)
        for piece in pieces:
            for sub in _hard_split(piece, count, max_tokens):
                if _HAS_WORD.search(sub):
                    out.append(
                        Chunk(
                            ord=0,
                            text=tidy(sub),
                            page_start=page.number,
                            page_end=page.number,
                            label_start=page.label,
                            label_end=page.label,
                            section=section,
                            n_tokens=count(sub),
                            region="footnote",
                        )
                    )
    return out


def _merge_small(
    spans: list[tuple[int, int, int]],
    full: str,
    count: TokenCounter,
    max_tokens: int,
    region_changes: list[int] | None = None,
) -> list[tuple[int, int, int]]:
    """Merge chunks under MIN_TOKENS into the previous (else next) chunk when the result still fits and no region
    change (offsets in `full`, sorted) lies between them: a cover page's title stays out of the first page of text."""
    changes = region_changes or []
    out: list[tuple[int, int, int]] = []
    for span in spans:
        start, end, tokens = span
        same_region = not out or bisect.bisect_right(changes, out[-1][0]) == bisect.bisect_right(changes, start)
        if out and same_region and (tokens < MIN_TOKENS or out[-1][2] < MIN_TOKENS):
            p_start, p_end, _ = out[-1]
            merged = count(full[p_start : max(end, p_end)])
            if merged <= max_tokens:
                out[-1] = (p_start, max(end, p_end), merged)
                continue
        out.append(span)
    return out


def overlap_length(previous: str, current: str, min_chars: int = 12) -> int:
    """How many characters at the start of `current` repeat the end of `previous` (the chunk overlap); 0 if none."""
    for start in range(max(0, len(previous) - len(current)), len(previous) - min_chars + 1):
        if previous[start] == current[0] and current.startswith(previous[start:]):
            return len(previous) - start
    return 0
