"""Result shaping on tiny hand-made hits: near-duplicates folded, overlapping chunks dropped, grouping, facets;
the no-good-answer evidence and the searcher's cache."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from pactkb.index.cache import Memo
from pactkb.index.evidence import judge, measure, query_stems, too_common
from pactkb.index.filters import Filters
from pactkb.index.results import Hit
from pactkb.index.shaping import collapse, facets, group

DUP, SAME_PAGE = 0.95, 0.9


def hit(
    cid: int,
    doc: str,
    page: int = 1,
    year: int | None = 2020,
    score: float = 1.0,
    doc_type: str = "guideline",
    areas: tuple[str, ...] = ("aml",),
    language: str = "en",
) -> Hit:
    """A hit with the fields shaping reads."""
    return Hit(
        chunk_id=cid,
        document_id=doc,
        score=score,
        text=f"text {cid}",
        title=doc.upper(),
        file=f"{doc}.pdf",
        page_start=page,
        page_end=page,
        label_start=None,
        label_end=None,
        section="",
        publisher="P",
        year=year,
        doc_type=doc_type,
        language=language,
        areas=list(areas),
        sensitivity="public",
    )


def unit(*xs: float) -> np.ndarray:
    """A normalised float32 vector."""
    v = np.asarray(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_the_same_passage_in_another_document_folds_into_the_best_ranked() -> None:
    hits = [hit(1, "a", score=0.9), hit(2, "b", score=0.8), hit(3, "c", score=0.7)]
    vectors = {1: unit(1, 0, 0), 2: unit(1, 0.01, 0), 3: unit(0, 1, 0)}
    out = collapse(hits, vectors, DUP, SAME_PAGE)
    assert [h.chunk_id for h in out] == [1, 3]
    assert [a["chunk_id"] for a in out[0].also_in] == [2] and out[0].also_in[0]["document_id"] == "b"


def test_a_newer_edition_of_the_same_passage_leads_with_the_older_listed_under_it() -> None:
    hits = [hit(1, "old", year=2020, score=0.9), hit(2, "new", year=2025, score=0.8)]
    out = collapse(hits, {1: unit(1, 0), 2: unit(1, 0.01)}, DUP, SAME_PAGE)
    assert [(h.chunk_id, h.score) for h in out] == [(2, 0.9)]
    assert [a["chunk_id"] for a in out[0].also_in] == [1]


def test_an_overlapping_chunk_of_a_page_already_shown_is_dropped_but_other_pages_stay() -> None:
    hits = [hit(1, "a", page=3), hit(2, "a", page=3), hit(3, "a", page=4)]
    vectors = {1: unit(1, 0), 2: unit(1, 0.3), 3: unit(1, 0.3)}  # cosine 0.958 with the first: like its overlap
    out = collapse(hits, vectors, DUP, SAME_PAGE)
    assert [h.chunk_id for h in out] == [1, 3] and out[0].also_in == []


def test_with_need_the_pass_stops_at_a_full_page_but_later_duplicates_still_fold() -> None:
    hits = [hit(1, "a"), hit(2, "b"), hit(3, "c"), hit(4, "d")]
    vectors = {1: unit(1, 0, 0), 2: unit(0, 1, 0), 3: unit(0, 0, 1), 4: unit(1, 0.01, 0)}
    out = collapse(hits, vectors, DUP, SAME_PAGE, need=2)
    assert [h.chunk_id for h in out] == [1, 2, 3]  # 3 follows unfolded; 4 folded into 1
    assert [a["chunk_id"] for a in out[0].also_in] == [4]
    assert collapse(hits[:1], vectors, DUP, SAME_PAGE) == hits[:1]


def test_grouping_keeps_each_documents_best_passage_and_lists_the_others() -> None:
    out = group([hit(1, "a", page=2, score=0.9), hit(2, "b", score=0.8), hit(3, "a", page=7, score=0.5)])
    assert [h.chunk_id for h in out] == [1, 2]
    assert out[0].more_pages == [{"chunk_id": 3, "page_start": 7, "page_end": 7, "section": "", "score": 0.5}]


def test_facets_count_documents_and_each_facet_ignores_its_own_filter() -> None:
    hits = [
        hit(1, "a", doc_type="guideline", areas=("aml",)),
        hit(2, "a", doc_type="guideline", areas=("aml",)),
        hit(3, "b", doc_type="report", areas=("cyber", "aml"), year=None),
    ]
    counts = facets(hits)
    assert counts["doc_type"] == {"guideline": 1, "report": 1}
    assert counts["area"] == {"aml": 2, "cyber": 1}
    assert counts["year"] == {"2020": 1, "unknown": 1}
    filtered = facets(hits, Filters(doc_types=("report",)))
    assert filtered["doc_type"] == {"guideline": 1, "report": 1}  # its own filter is ignored: other values stay visible
    assert filtered["area"] == {"cyber": 1, "aml": 1}  # the other facets count the report only


def test_evidence_weighs_known_and_covered_terms_by_idf() -> None:
    stems = query_stems("laundering quasar")
    assert set(stems) == {"laundering", "quasar"}
    df = {stems["laundering"]: 10}
    ev = measure(stems, df, n=100, top_texts=["Money laundering typologies"])
    idf_known = np.log(1 + 100 / 11)
    idf_unknown = np.log(1 + 100 / 1)
    assert ev["known"] == pytest.approx(idf_known / (idf_known + idf_unknown), abs=1e-4)
    assert ev["coverage"] == ev["known"]
    assert measure({}, df, 100, []) == {"known": 0.0, "coverage": 0.0}


def test_the_judgement_needs_known_words_before_it_flags_missing_coverage() -> None:
    assert judge({"known": 0.9, "coverage": 0.2}, known_floor=0.5, coverage_floor=0.4) is True
    assert judge({"known": 0.9, "coverage": 0.8}, known_floor=0.5, coverage_floor=0.4) is False
    assert judge({"known": 0.3, "coverage": 0.0}, known_floor=0.5, coverage_floor=0.4) is None


def test_too_common_terms_leave_but_the_two_rarest_stay() -> None:
    terms = ["good", "practice", "cash", "couriers"]
    df = {query_stems(t)[t]: n for t, n in zip(terms, (900, 800, 50, 5), strict=True)}
    assert too_common(terms, df, n=1000, share=0.1) == {"good", "practice"}
    assert too_common(terms[:2], df, n=1000, share=0.1) == set()


def test_the_memo_computes_once_per_key_and_drops_the_least_recently_used() -> None:
    memo: Memo[str, str | None] = Memo(maxsize=2)
    calls: list[str] = []

    def compute(key: str) -> str | None:
        calls.append(key)
        return None if key == "unsure" else key.upper()

    assert memo.get("unsure", lambda: compute("unsure")) is None
    assert memo.get("unsure", lambda: compute("unsure")) is None  # None is cached like any value
    assert memo.get("a", lambda: compute("a")) == "A"
    assert memo.get("unsure", lambda: compute("unsure")) is None  # used: now the most recent
    assert memo.get("b", lambda: compute("b")) == "B"  # evicts "a"
    assert len(memo) == 2
    memo.get("a", lambda: compute("a"))
    assert calls == ["unsure", "a", "b", "a"]


def test_the_memo_is_safe_under_threads() -> None:
    memo: Memo[int, int] = Memo(maxsize=50)

    def work(offset: int) -> None:
        for i in range(2000):
            key = (i + offset) % 80
            assert memo.get(key, lambda k=key: k * 2) == key * 2

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(memo) == 50
