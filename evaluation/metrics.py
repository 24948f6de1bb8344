"""Ranking metrics via ranx (nDCG, recall, MRR, MAP) and latency percentiles."""

from __future__ import annotations

import warnings

import numpy as np
from ranx import Qrels, Run
from ranx import evaluate as ranx_evaluate

try:  # ranx's numba kernels warn about an unsigned-to-signed cast that cannot matter here
    from numba.core.errors import NumbaTypeSafetyWarning

    warnings.filterwarnings("ignore", category=NumbaTypeSafetyWarning)
except ImportError:  # pragma: no cover
    pass

METRICS = ("ndcg@10", "recall@10", "recall@100", "mrr@10", "map@100")


def evaluate(
    qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]], metrics: tuple[str, ...] = METRICS
) -> dict[str, float]:
    """Mean metrics over the judged queries (queries with no results count as zero)."""
    full_run = {q: (run.get(q) or {"__none__": 0.0}) for q in qrels}
    scores = ranx_evaluate(Qrels(qrels), Run(full_run), list(metrics), make_comparable=True)
    if len(metrics) == 1:
        scores = {metrics[0]: scores}
    return {m: round(float(scores[m]), 4) for m in metrics}


def per_query(qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]], metric: str) -> dict[str, float]:
    """One metric for every query."""
    full_run = {q: (run.get(q) or {"__none__": 0.0}) for q in qrels}
    r = Run(full_run)
    ranx_evaluate(Qrels(qrels), r, [metric], make_comparable=True, return_mean=False)
    return {q: float(v) for q, v in r.scores[metric].items()}


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile in ms, rounded (0 for no values)."""
    return round(float(np.percentile(values, q)), 2) if values else 0.0
