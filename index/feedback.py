"""Dense pseudo-relevance feedback (Rocchio) for hybrid search: the query vector moved towards the stored vectors of
the first fused passages of one document, and every candidate rescored against it. No text is encoded again and no
second search runs: the candidates the retrievers found are re-ranked (a lexical-only candidate gets a dense rank
too), so a paraphrase whose first results are right lifts the passages worded like them.

Feedback comes only from passages of the first passage's document, and only when the first few candidates hold two
or more of its pages: pages of one document agreeing are a topic. Passages of different documents are not (on
SciFact, whose records are abstracts, feedback from the first three lost 0.009 nDCG@10 on its train split), and
neither are two chunks of one page or one short record (one piece of evidence: SciFact train -0.0009, ObliQA dev
-0.0006 with them).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from pactkb.index.fusion import Ranked, Row

MIN_FEEDBACK = 2  # pages of the first passage's document needed among the first few candidates


def feedback_ids(fused: Ranked, rows: Mapping[int, Row], passages: int) -> list[int]:
    """The chunks that feed back: those of the first candidate's document among the first `passages` fused ones,
    when they lie on at least MIN_FEEDBACK different pages (page spans); else none."""
    first = [cid for cid, _ in fused[:passages] if cid in rows]
    if not first:
        return []
    doc = rows[first[0]]["doc_id"]
    same = [cid for cid in first if rows[cid]["doc_id"] == doc]
    pages = {(rows[cid]["page_start"], rows[cid]["page_end"]) for cid in same}
    return same if len(pages) >= MIN_FEEDBACK else []


def row_vector(row: Row) -> np.ndarray:
    """A store row's stored (unit) vector."""
    return np.frombuffer(row["vector"], dtype=np.float32)


def rocchio(qvec: np.ndarray, vectors: list[np.ndarray], weight: float) -> np.ndarray:
    """The unit vector of (1 - weight) * query + weight * centroid of the feedback vectors (both unit length); the
    query itself without feedback or weight."""
    if not vectors or weight <= 0:
        return qvec
    q = np.asarray(qvec, dtype=np.float32)
    centroid = np.mean(np.stack(vectors), axis=0)
    moved = (1.0 - weight) * q / (np.linalg.norm(q) or 1.0) + weight * centroid / (np.linalg.norm(centroid) or 1.0)
    return (moved / (np.linalg.norm(moved) or 1.0)).astype(np.float32)


def rescore(moved: np.ndarray, ids: list[int], rows: Mapping[int, Row]) -> Ranked:
    """The candidates (those with a row) ranked by cosine to the moved query vector, best first (ties by id)."""
    known = [cid for cid in ids if cid in rows]
    if not known:
        return []
    scores = np.stack([row_vector(rows[cid]) for cid in known]) @ moved
    return sorted(zip(known, scores.tolist(), strict=True), key=lambda kv: (-kv[1], kv[0]))
