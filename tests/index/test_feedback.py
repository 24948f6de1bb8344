"""Dense pseudo-relevance feedback: which passages feed back, the moved query vector, the rescored candidates, and
that hybrid search fuses the rescored list in place of the dense one (only in hybrid mode, only when switched on)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pactkb.index.feedback import feedback_ids, rescore, rocchio
from pactkb.index.kb import KnowledgeBase
from pactkb.index.store import vector_blob
from pactkb.settings import Settings


def row(doc: str, vector: tuple[float, ...], page: int = 1) -> dict[str, object]:
    """A candidate's store row with the columns feedback reads."""
    vec = np.asarray(vector, dtype=np.float32)
    return {"doc_id": doc, "vector": vector_blob(vec / np.linalg.norm(vec)), "page_start": page, "page_end": page}


def test_feedback_comes_from_the_first_passages_of_the_first_passages_document() -> None:
    rows = {1: row("a", (1, 0), 1), 2: row("b", (0, 1)), 3: row("a", (1, 1), 2), 4: row("a", (1, 2), 2)}
    fused = [(1, 0.9), (2, 0.8), (3, 0.7), (4, 0.6)]
    assert feedback_ids(fused, rows, 3) == [1, 3]  # 4 is beyond the first three; 2 is another document
    assert feedback_ids(fused, rows, 4) == [1, 3, 4]


def test_no_feedback_when_the_first_passages_share_no_document() -> None:
    """One passage per document (an abstract collection such as SciFact): nothing feeds back."""
    rows = {1: row("a", (1, 0)), 2: row("b", (0, 1)), 3: row("c", (1, 1))}
    assert feedback_ids([(1, 0.9), (2, 0.8), (3, 0.7)], rows, 3) == []
    assert feedback_ids([], rows, 3) == []


def test_no_feedback_from_chunks_of_one_page() -> None:
    """Two chunks of one page (or of one short record, all on page 1) are one piece of evidence, not a topic."""
    rows = {1: row("a", (1, 0)), 2: row("a", (0, 1)), 3: row("b", (1, 1))}
    assert feedback_ids([(1, 0.9), (2, 0.8), (3, 0.7)], rows, 3) == []
    rows[2] = row("a", (0, 1), page=2)
    assert feedback_ids([(1, 0.9), (2, 0.8), (3, 0.7)], rows, 3) == [1, 2]


def test_rocchio_moves_the_query_towards_the_feedback_centroid() -> None:
    q = np.array([1.0, 0.0], dtype=np.float32)
    fb = [np.array([0.0, 1.0], dtype=np.float32), np.array([0.0, 1.0], dtype=np.float32)]
    assert np.allclose(rocchio(q, fb, 0.0), q)
    assert np.allclose(rocchio(q, [], 0.6), q)
    moved = rocchio(q, fb, 0.5)
    assert np.isclose(np.linalg.norm(moved), 1.0)
    assert np.allclose(moved, [np.sqrt(0.5), np.sqrt(0.5)], atol=1e-6)
    assert rocchio(q, fb, 0.6)[1] > rocchio(q, fb, 0.5)[1]  # a larger weight moves further


def test_rescore_ranks_every_candidate_by_cosine_to_the_moved_vector() -> None:
    rows = {1: row("a", (1, 0)), 2: row("b", (0, 1)), 3: row("c", (1, 1))}
    ranked = rescore(np.array([0.0, 1.0], dtype=np.float32), [1, 2, 3, 9], rows)  # 9: no row, left out
    assert [c for c, _ in ranked] == [2, 3, 1]
    assert ranked[0][1] == pytest.approx(1.0)


@pytest.fixture
def kb(tmp_path: Path) -> KnowledgeBase:
    """Two short documents about the same subject (fake encoder)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for i, topic in enumerate(["cash couriers at the border", "hawala brokers and cash couriers", "training hours"]):
        (docs / f"d{i}.txt").write_text(f"{topic}. " * 40, encoding="utf-8")
    kb = KnowledgeBase(Settings(data=tmp_path / "data", model="fake:64", parse_workers=0, dictionaries=""))
    kb.indexer.ingest([docs])
    return kb


def test_hybrid_search_fuses_the_rescored_list_in_place_of_the_dense_one(kb, monkeypatch) -> None:
    """With feedback on, hybrid mode fuses the rescored list (here: the candidates reversed, so the results change);
    off, or in another mode, rescoring is never called."""
    import pactkb.index.hybrid as hybrid

    calls: list[str] = []

    def reversed_candidates(moved: np.ndarray, ids: list[int], rows: object) -> list[tuple[int, float]]:
        """Stands in for rescore: the candidates in reverse order."""
        calls.append("rescore")
        return [(c, float(i)) for i, c in enumerate(reversed(ids))]

    monkeypatch.setattr(hybrid, "feedback_ids", lambda fused, rows, n: [c for c, _ in fused[:2]])
    monkeypatch.setattr(hybrid, "rescore", reversed_candidates)
    query = "cash couriers border"
    kb.searcher.settings = kb.settings.model_copy(update={"feedback_weight": 0.0})
    off = [h.chunk_id for h in kb.searcher.search(query, k=5, mode="hybrid", collapse=False).results]
    assert calls == []
    kb.searcher.settings = kb.settings.model_copy(update={"feedback_weight": 0.6})
    for mode in ("dense", "lexical"):
        kb.searcher.search(query, k=5, mode=mode, collapse=False)
    assert calls == []
    on = [h.chunk_id for h in kb.searcher.search(query, k=5, mode="hybrid", collapse=False).results]
    assert calls == ["rescore"]
    assert on != off
