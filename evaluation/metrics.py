"""Ranking metrics via ranx (nDCG, recall, MRR, MAP), bootstrap confidence intervals of their means over queries, and
latency percentiles."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from ranx import Qrels, Run
from ranx import evaluate as ranx_evaluate
from scipy import stats

try:  # ranx's numba kernels warn about an unsigned-to-signed cast that cannot matter here
    from numba.core.errors import NumbaTypeSafetyWarning

    warnings.filterwarnings("ignore", category=NumbaTypeSafetyWarning)
except ImportError:  # pragma: no cover
    pass

METRICS = ("ndcg@10", "recall@10", "recall@100", "mrr@10", "map@100")
# bootstrap over queries: a fixed seed (each interval draws from its own generator, so a report regenerates the same
# intervals whatever else it computes) and percentile intervals (BCa is undefined when every score is equal)
BOOTSTRAP_SEED = 20261202
BOOTSTRAP_RESAMPLES = 4000


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


def _mean(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Mean along an axis (the bootstrap's vectorised statistic)."""
    return np.mean(x, axis=axis)


def ci95(values: Sequence[float]) -> list[float] | None:
    """95% confidence interval of the mean of per-query scores, by bootstrap over queries ([lo, hi], rounded to 4
    places; None for fewer than two queries)."""
    x = np.asarray(values, dtype=float)
    if x.size < 2:
        return None
    if np.all(x == x[0]):  # nothing to resample: the interval is the value itself
        return [round(float(x[0]), 4)] * 2
    res = stats.bootstrap(
        (x,),
        _mean,
        n_resamples=BOOTSTRAP_RESAMPLES,
        method="percentile",
        vectorized=True,
        rng=np.random.default_rng(BOOTSTRAP_SEED),
    )
    lo, hi = res.confidence_interval
    return [round(float(lo), 4), round(float(hi), 4)]


def paired_diff_ci95(after: Sequence[float], before: Sequence[float]) -> list[float] | None:
    """95% confidence interval of mean(after) − mean(before) over the same queries (a paired bootstrap: queries are
    resampled together, so the interval is that of the mean per-query difference)."""
    a, b = np.asarray(after, dtype=float), np.asarray(before, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"a paired interval needs the same queries on both sides ({a.size} against {b.size})")
    return ci95(a - b)
