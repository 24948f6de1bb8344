"""Pure fusion of ranked lists: weighted reciprocal-rank fusion, convex min-max fusion, the per-encoder weight tables,
and the score factors applied after fusion (passage regions, passages too short to answer, section support,
editions, near-identical twins).

Every function takes ranked (chunk id, score) lists and returns a new ranked list (ties broken by id); nothing here
reads the store or the encoder.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np

from pactkb.index.embed import is_multilingual
from pactkb.settings import Region, Settings

Ranked = list[tuple[int, float]]  # (chunk id, score), best first


class Row(Protocol):
    """A candidate's store row (index/store.py hit_rows): a sqlite3.Row, or a dict in tests."""

    def __getitem__(self, key: str) -> Any:
        """A column's value."""


# (dense, lexical) RRF weights for queries not in English, chosen on the domain set's dev half
# (python -m pactkb.evaluation.tune_languages); English queries keep weight_dense / weight_lexical.
MULTILINGUAL_FUSION: dict[str, tuple[float, float]] = {"*": (1.0, 0.5)}
ENGLISH_MODEL_FUSION: dict[str, tuple[float, float]] = {"*": (0.2, 0.5)}
# (bridged BM25, dense search of the dictionary translation) RRF weights, chosen the same way
MULTILINGUAL_BRIDGE: tuple[float, float] = (1.0, 0.5)
ENGLISH_MODEL_BRIDGE: tuple[float, float] = (1.0, 0.5)
# (native query's dense search, dense search of its English) RRF weights when a translator (Apertium) rendered the
# query, with a multilingual encoder and settings.translated_dense_first: the English rendering is the better dense
# query (domain dev half, e5-small, each list alone: translated 0.53, native 0.33 nDCG@10), so the two swap weights.
MACHINE_TRANSLATED_DENSE: tuple[float, float] = (0.5, 1.0)
# A query a translator or glossary rendered word for word (coverage 1: index/bridge.py Translation.coverage) has an
# English rendering as good as an English query, while BM25 of its native words over English text and its native dense
# search mostly add noise: with a multilingual encoder, the rendering's BM25 and dense lists then weigh as an English
# query's (weight_lexical, weight_dense) and the native query's own lists keep this share of their weight. A partly
# rendered query moves from the usual weights toward these in proportion to its coverage. Chosen on the domain set's
# dev half over all the users' languages at once (python -m pactkb.evaluation.tune_languages, its coverage stage).
FULL_TRANSLATION_NATIVE = 0.75


def rrf(lists: list[tuple[Ranked, float]], k: int) -> Ranked:
    """Weighted reciprocal-rank fusion: score = sum of weight / (k + rank)."""
    scores: dict[int, float] = {}
    for ranked, weight in lists:
        for rank, (cid, _) in enumerate(ranked, start=1):
            scores[cid] = scores.get(cid, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def demote_regions(fused: Ranked, rows: Mapping[int, Row], weights: Mapping[Region, float]) -> Ranked:
    """Scale each passage's fused score by its region's weight (footnotes, contents, indexes, reference lists and
    front matter rank below the body text that says the same), keeping the order stable among equals."""
    if all(w == 1.0 for w in weights.values()):
        return fused
    scaled = [(cid, sc * weights.get(rows[cid]["region"], 1.0) if cid in rows else sc) for cid, sc in fused]
    return sorted(scaled, key=lambda kv: (-kv[1], kv[0]))


def demote_short(fused: Ranked, rows: Mapping[int, Row], min_tokens: int, weight: float) -> Ranked:
    """Scale by `weight` the fused score of a passage of fewer than `min_tokens` encoder tokens within a document of
    more than one page (a bare heading, a one-line footnote, a cover title: BM25's length normalisation and dense
    similarity both favour such stubs, which say nothing a user can use), keeping the order stable among equals;
    1.0 = off. A one-page document (a short note, a text record such as a BEIR passage) is not a stub of anything:
    it keeps its score however short it is."""
    if weight >= 1.0 or min_tokens <= 0:
        return fused
    scaled = [(cid, sc * weight if cid in rows and is_stub(rows[cid], min_tokens) else sc) for cid, sc in fused]
    return sorted(scaled, key=lambda kv: (-kv[1], kv[0]))


def is_stub(row: Row, min_tokens: int) -> bool:
    """Whether a passage is shorter than `min_tokens` encoder tokens and part of a document of several pages."""
    return bool(row["n_tokens"] < min_tokens and (row["pages"] or 0) > 1)


SUPPORT_PAGES = 1  # passages of one section support each other when at most this many pages apart
SECTION_SEPARATOR = " > "  # between the headings of a section path (ingest's outline / heading typography)


def section_unit(section: str, levels: int) -> str:
    """The part of a section path that passages must share to support each other: its first `levels` headings (0:
    the whole path). 'Deepfake > Detection' and 'Deepfake > New capacities' are one unit at one level."""
    if levels <= 0 or not section:
        return section
    return SECTION_SEPARATOR.join(section.split(SECTION_SEPARATOR)[:levels])


def support_sections(fused: Ranked, rows: Mapping[int, Row], share: float, levels: int = 0) -> Ranked:
    """Let a passage continue a better one beside it: each gains `share` of the best score among the better-scored
    candidates of the same document and section (its first `levels` headings; 0: the whole path) at most
    SUPPORT_PAGES pages away (an answer spread over a few pages ranks with its neighbours; a long section's distant
    passages, often a whole chapter, do not count). Support flows one way: a section's best passage gains nothing
    from its weaker neighbours, so it does not climb over another document's better answer."""
    if share <= 0:
        return fused
    best: dict[tuple[str, str, int], Ranked] = {}  # the two best candidates touching each page of a section
    units: dict[str, str] = {}  # section path -> its unit (candidates share a few sections)
    placed: list[tuple[str, str, int, int] | None] = []  # per candidate: document, unit, first and last page
    for cid, sc in fused:
        row = rows.get(cid)
        section = row["section"] if row is not None else None
        if not section:
            placed.append(None)
            continue
        unit = units.get(section)
        if unit is None:
            unit = units[section] = section_unit(section, levels)
        doc, first, last = row["doc_id"], row["page_start"], row["page_end"]  # type: ignore[index]
        placed.append((doc, unit, first, last))
        for page in range(first, last + 1):
            top = best.setdefault((doc, unit, page), [])
            if len(top) < 2:
                top.append((cid, sc))
    out = []
    for (cid, sc), where in zip(fused, placed, strict=True):
        support = 0.0
        if where is not None:
            doc, unit, first, last = where
            for page in range(first - SUPPORT_PAGES, last + SUPPORT_PAGES + 1):
                for other, osc in best.get((doc, unit, page), ()):
                    if other != cid:  # the best other candidate on that page: support only when it is better
                        if osc > sc and osc > support:
                            support = osc
                        break
        out.append((cid, sc + share * support))
    return sorted(out, key=lambda kv: (-kv[1], kv[0]))


def fold_pages(fused: Ranked, rows: Mapping[int, Row], weight: float) -> Ranked:
    """Scale by `weight` the score of a passage whose pages overlap those of a better-ranked passage of the same
    document: the page is already in the list (a user opens the page, not the chunk), so another of its chunks
    should not take a slot from a different page. 1.0 = off; the page's best passage keeps its score."""
    if weight >= 1.0:
        return fused
    shown: dict[str, set[int]] = {}  # per document, the pages of the passages ranked so far (one set test each)
    out = []
    for cid, sc in fused:
        row = rows.get(cid)
        if row is None:
            out.append((cid, sc))
            continue
        pages = range(row["page_start"], row["page_end"] + 1)  # page_start <= page_end (the store's CHECK)
        seen_pages = shown.setdefault(row["doc_id"], set())
        seen = not seen_pages.isdisjoint(pages)
        seen_pages.update(pages)
        out.append((cid, sc * weight if seen else sc))
    return sorted(out, key=lambda kv: (-kv[1], kv[0]))


MAX_TWIN_CANDIDATES = 60  # candidates per family compared pairwise for near-identical twins


def superseded_by(row: Row, newest: Mapping[str, Any]) -> dict[str, Any] | None:
    """The newest visible edition of a row's family when it is newer than the row's document, else None."""
    editions = newest.get(row["family"]) if row["family"] else None
    if not editions or editions[0]["edition_rank"] <= row["edition_rank"]:
        return None
    top = editions[0]
    return {"document_id": top["id"], "title": top["title"], "year": top["year"]}


def prefer_editions(
    fused: Ranked,
    rows: Mapping[int, Row],
    newest: Mapping[str, Any],
    asked: tuple[int | None, bool, bool],
    weight: float,
) -> Ranked:
    """Demote editions the query did not ask for: superseded ones for an undated query, others than the named year's
    for a dated one ('before 2025': those of 2025 and later)."""
    year, before, named = asked
    if not newest or weight >= 1.0:
        return fused

    def factor(row: Row) -> float:
        if not row["family"] or row["family"] not in newest:
            return 1.0
        if year is not None:
            row_year = row["year"]
            if before:
                return weight if row_year is not None and row_year >= year else 1.0
            return 1.0 if row_year == year else weight
        if named:
            return 1.0
        return weight if superseded_by(row, newest) else 1.0

    scaled = [(cid, sc * factor(rows[cid]) if cid in rows else sc) for cid, sc in fused]
    return sorted(scaled, key=lambda kv: (-kv[1], kv[0]))


def order_twins(
    fused: Ranked,
    rows: Mapping[int, Row],
    newest: Mapping[str, Any],
    asked: tuple[int | None, bool, bool],
    dup_cos: float,
) -> Ranked:
    """Put the wanted edition's passage above its near-identical twin in another edition of the same family: the
    newer one for an undated query, the named year's for a dated one (the twins trade scores, nothing else moves).
    Part of the edition preference: search applies it only while settings.superseded_weight is below 1.0."""
    year, before, named = asked
    if not newest or (named and year is None):
        return fused
    score = dict(fused)
    by_family: dict[str, list[int]] = {}
    for cid, _ in fused:
        row = rows.get(cid)
        if row is not None and row["family"] in newest:
            by_family.setdefault(row["family"], []).append(cid)

    def wanted(row: Row) -> float:
        """How much the query wants this edition (higher first)."""
        if year is None:
            return float(row["edition_rank"])
        if before:
            return float(row["edition_rank"]) if (row["year"] or 0) < year else -float(row["edition_rank"])
        return 1.0 if row["year"] == year else 0.0

    for cids in by_family.values():
        if len(cids) < 2:
            continue
        cids = cids[:MAX_TWIN_CANDIDATES]
        vecs = np.frombuffer(b"".join(rows[c]["vector"] for c in cids), dtype=np.float32).reshape(len(cids), -1)
        near = np.argwhere(np.triu(vecs @ vecs.T >= dup_cos, 1))  # only the near-identical pairs, (i, j) in order
        for i, j in near.tolist():
            if rows[cids[i]]["doc_id"] == rows[cids[j]]["doc_id"]:
                continue
            hi, lo = (cids[i], cids[j]) if score[cids[i]] >= score[cids[j]] else (cids[j], cids[i])
            if wanted(rows[lo]) > wanted(rows[hi]):
                score[hi], score[lo] = score[lo], score[hi]
    return sorted(score.items(), key=lambda kv: (-kv[1], kv[0]))


def _minmax(ranked: Ranked) -> dict[int, float]:
    """Scores scaled to [0, 1] within one result list."""
    if not ranked:
        return {}
    vals = [sc for _, sc in ranked]
    lo, hi = min(vals), max(vals)
    return {c: (sc - lo) / (hi - lo) if hi > lo else 1.0 for c, sc in ranked}


def convex_fusion(dense: Ranked, lexical: Ranked, alpha: float) -> Ranked:
    """alpha * min-max(dense) + (1 - alpha) * min-max(BM25); a missing score counts as 0."""
    d, lx = _minmax(dense), _minmax(lexical)
    scores = {c: alpha * d.get(c, 0.0) + (1 - alpha) * lx.get(c, 0.0) for c in set(d) | set(lx)}
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def translated_first(settings: Settings, encoder_name: str, machine_translated: bool) -> bool:
    """Whether a query's English rendering leads its dense search (MACHINE_TRANSLATED_DENSE): machine translated, a
    multilingual encoder, settings.translated_dense_first on and no explicit translated-dense weight."""
    return (
        machine_translated
        and settings.translated_dense_first
        and settings.weight_translated_dense is None
        and is_multilingual(encoder_name)
    )


def full_translation(settings: Settings, encoder_name: str) -> tuple[float, float, float] | None:
    """For a fully rendered query: (the share of their weight the native lists keep, the rendering's dense weight,
    its BM25 weight); None when the rule is off (settings.translation_coverage false, or an English-only encoder:
    not measured)."""
    s = settings
    if not s.translation_coverage or not is_multilingual(encoder_name):
        return None
    native = s.weight_full_translation if s.weight_full_translation is not None else FULL_TRANSLATION_NATIVE
    return native, s.weight_dense, s.weight_lexical


def toward(usual: float, full: float, coverage: float) -> float:
    """A weight moved from its usual value toward its value for a fully rendered query, by the coverage (0 to 1)."""
    return usual + (full - usual) * min(max(coverage, 0.0), 1.0)


def fusion_weights(
    settings: Settings,
    encoder_name: str,
    language: str | None,
    machine_translated: bool = False,
    coverage: float = 0.0,
) -> tuple[float, float]:
    """(dense, lexical) weights for a query language: English and unsure queries use weight_dense/weight_lexical;
    other languages the per-language table (lexical matches rarely cross languages; dense ones do, with a
    multilingual encoder); a machine-translated query's own dense search as MACHINE_TRANSLATED_DENSE says; both scaled
    down toward FULL_TRANSLATION_NATIVE's share by the translation's coverage."""
    s = settings
    if language in (None, "en"):
        return s.weight_dense, s.weight_lexical
    table = s.fusion_by_language
    if table is None:
        table = MULTILINGUAL_FUSION if is_multilingual(encoder_name) else ENGLISH_MODEL_FUSION
    dense, lexical = table.get(language, table.get("*", (s.weight_dense, s.weight_lexical)))
    if translated_first(s, encoder_name, machine_translated):
        dense = MACHINE_TRANSLATED_DENSE[0]
    full = full_translation(s, encoder_name)
    keep = toward(1.0, full[0], coverage) if full is not None else 1.0
    return dense * keep, lexical * keep


def bridge_weights(
    settings: Settings, encoder_name: str, machine_translated: bool = False, coverage: float = 0.0
) -> tuple[float, float]:
    """RRF weights of the bridged BM25 list and of the dense search for a dictionary translation: the settings',
    else pactkb's defaults for the kind of encoder (MACHINE_TRANSLATED_DENSE's for a machine translation), moved
    toward an English query's weights by the translation's coverage (a list switched off, weight 0, stays off)."""
    s = settings
    default = MULTILINGUAL_BRIDGE if is_multilingual(encoder_name) else ENGLISH_MODEL_BRIDGE
    if translated_first(s, encoder_name, machine_translated):
        default = (default[0], MACHINE_TRANSLATED_DENSE[1])
    lexical = s.weight_bridge if s.weight_bridge is not None else default[0]
    dense = s.weight_translated_dense if s.weight_translated_dense is not None else default[1]
    full = full_translation(s, encoder_name)
    if full is None or coverage <= 0:
        return lexical, dense
    return (
        toward(lexical, full[2], coverage) if lexical > 0 else 0.0,
        toward(dense, full[1], coverage) if dense > 0 else 0.0,
    )


def fuse(
    settings: Settings,
    encoder_name: str,
    dense: Ranked,
    lexical: Ranked,
    language: str | None = None,
    bridged: list[tuple[Ranked, float]] | None = None,
    machine_translated: bool = False,
    coverage: float = 0.0,
) -> Ranked:
    """Fuse the ranked lists as the settings say (RRF by default), weighted for the query language (whether a
    translator rendered it, and how much of it: coverage); the bridged lists (the query translated to English: BM25,
    and dense) join with their own weights."""
    if settings.fusion == "convex":
        return convex_fusion(dense, lexical, settings.convex_alpha)
    wd, wl = fusion_weights(settings, encoder_name, language, machine_translated, coverage)
    return rrf([(dense, wd), (lexical, wl), *(bridged or [])], settings.rrf_k)
