"""Result shaping after ranking: near-duplicates folded ('also in'), one result per document, facet counts.

Pure functions over hits and their vectors; the encoder's similarity calibration comes in as thresholds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping

import numpy as np

from pactkb.index.filters import Filters
from pactkb.index.results import Hit

COLLAPSE_BLOCK = 64  # hits compared with the kept ones per matrix product


def collapse(
    hits: list[Hit],
    vectors: Mapping[int, np.ndarray],
    dup_cos: float,
    same_page_cos: float,
    need: int | None = None,
    by_document: bool = False,
) -> list[Hit]:
    """Fold near-duplicate passages from other documents (cosine >= dup_cos) into the best-ranked one ('also in'; the
    newest edition leads), and drop overlapping chunks of a page already shown (cosine >= same_page_cos: the chunk
    overlap makes them look alike).

    Hits are compared with the hits kept before them, a block at a time (memory O(n·d), never an n×n matrix).
    With `need`, the pass stops once that many results (distinct documents with `by_document`) are kept, and the
    remaining hits are only compared with those: their near-duplicates still fold into them, the others follow
    unfolded. Work is then O(n·need), and need = offset + k is bounded by the result window."""
    if len(hits) < 2:
        return hits
    floor = min(same_page_cos, dup_cos)
    kept: list[int] = []  # positions in hits, in rank order
    mat = np.empty((len(hits), len(vectors[hits[0].chunk_id])), dtype=np.float32)  # row r: vector of hits[kept[r]]
    docs: Counter[str] = Counter()
    dropped: set[int] = set()

    def place(i: int, vec: np.ndarray, cos: np.ndarray) -> int | None:
        """Decide hits[i] given its cosines to the first len(cos) kept hits: drop or fold it (None), or keep it
        (-1); after a newer edition takes a kept slot, that slot's row (its vector changed)."""
        h = hits[i]
        near = np.flatnonzero(cos >= floor)
        for r in near:  # an overlapping chunk of a page already shown
            t = hits[kept[r]]
            if (
                t.document_id == h.document_id
                and h.page_start <= t.page_end
                and h.page_end >= t.page_start
                and cos[r] >= same_page_cos
            ):
                return None
        dup = next((r for r in near if hits[kept[r]].document_id != h.document_id and cos[r] >= dup_cos), None)
        if dup is None:
            return -1
        target = hits[kept[dup]]
        if any(a["document_id"] == h.document_id for a in target.also_in):
            return None
        if (h.year or 0) <= (target.year or 0):
            target.also_in.append(h.also_entry())
            return None
        h.rank, h.score = target.rank, target.score  # the same passage in a newer edition leads; the older is 'also in'
        h.also_in = [*target.also_in, target.also_entry()]
        target.also_in = []
        hits[kept[dup]], hits[i] = h, target
        mat[dup] = vec
        docs[target.document_id] -= 1
        if not docs[target.document_id]:
            del docs[target.document_id]
        docs[h.document_id] += 1
        return int(dup)

    def enough() -> bool:
        return need is not None and (len(docs) if by_document else len(kept)) >= need

    stop = len(hits)
    every = np.array([vectors[h.chunk_id] for h in hits])  # in rank order (a swap only moves hits already passed)
    for start in range(0, len(hits), COLLAPSE_BLOCK):  # the full pass, until the page is filled
        block = every[start : start + COLLAPSE_BLOCK]
        before = len(kept)
        sims = block @ mat[:before].T  # the block against the hits kept before it
        maybe: np.ndarray = (sims >= floor).any(axis=1) | np.tril(block @ block.T >= floor, -1).any(axis=1)
        for b in range(len(block)):
            if enough():
                stop = start + b
                break
            slot = (
                place(start + b, block[b], np.concatenate([sims[b], mat[before : len(kept)] @ block[b]]))
                if maybe[b]
                else -1
            )
            if slot == -1:
                mat[len(kept)] = block[b]
                kept.append(start + b)
                docs[hits[start + b].document_id] += 1
            elif slot is not None:  # a kept slot's vector changed: so do the later rows' cosines to it
                later = block[b + 1 :] @ block[b]
                maybe[b + 1 :] |= later >= floor
                if slot < before:
                    sims[b + 1 :, slot] = later
        if stop < len(hits):
            break
    page = len(kept)
    for start in range(stop, len(hits), COLLAPSE_BLOCK):  # the rest: folded into the page's hits only
        block = every[start : start + COLLAPSE_BLOCK]
        sims = block @ mat[:page].T
        maybe = np.asarray((sims >= floor).any(axis=1))
        for b in range(len(block)):
            slot = place(start + b, block[b], sims[b]) if maybe[b] else -1
            if slot != -1:
                dropped.add(start + b)  # folded, or the older edition it displaced
            if slot is not None and slot >= 0:
                later = block[b + 1 :] @ block[b]
                maybe[b + 1 :] |= later >= floor
                sims[b + 1 :, slot] = later
    return [hits[i] for i in kept] + [hits[i] for i in range(stop, len(hits)) if i not in dropped]


def group(hits: list[Hit]) -> list[Hit]:
    """One result per document (its best passage); other passages listed as more_pages."""
    first: dict[str, Hit] = {}
    out: list[Hit] = []
    for h in hits:
        top = first.get(h.document_id)
        if top is None:
            first[h.document_id] = h
            out.append(h)
        else:
            top.more_pages.append(
                {
                    "chunk_id": h.chunk_id,
                    "page_start": h.page_start,
                    "page_end": h.page_end,
                    "section": h.section,
                    "score": h.score,
                }
            )
    return out


# each facet's values of a list of hits, in order (a hit counts under every area of its document)
FACET_VALUES: dict[str, Callable[[list[Hit]], Iterable[str]]] = {
    "doc_type": lambda hits: (h.doc_type for h in hits),
    "area": lambda hits: (a for h in hits for a in h.areas or ["(none)"]),
    "language": lambda hits: (h.language or "unknown" for h in hits),
    "year": lambda hits: (str(h.year) if h.year else "unknown" for h in hits),
    "publisher": lambda hits: (h.publisher or "unknown" for h in hits),
}


def facets(hits: list[Hit], filters: Filters | None = None) -> dict[str, dict[str, int]]:
    """Counts of distinct documents per facet value among the matches. With facet filters, each
    facet is counted over the matches of all the *other* filters (so unselected values stay visible).
    One Counter per facet over all its values at once (values counted in document order: ties keep it)."""
    docs = list({h.document_id: h for h in reversed(hits)}.values())
    out: dict[str, dict[str, int]] = {}
    for facet in FACET_VALUES:
        counted = docs if filters is None else [h for h in docs if filters.admits(h, skip=facet)]
        out[facet] = dict(Counter(FACET_VALUES[facet](counted)).most_common())
    return out
