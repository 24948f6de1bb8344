"""Per-stage timing of one search (Elasticsearch's `profile`): encode, dense, lexical, fusion, collapse, snippets,
rows... in milliseconds, with the time outside every named stage as `other`, so the stages add up to `total`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

# The stages a search may report, in the order they run (index/hybrid.py); `other` and `total` close the profile.
STAGES: tuple[str, ...] = (
    "encode",
    "sync",
    "language",
    "translate",
    "dense",
    "lexical",
    "bridge",
    "expand",
    "fusion",
    "rows",
    "rerank",
    "collapse",
    "facets",
    "snippets",
    "evidence",
)


class StageTimer:
    """Accumulates wall time per stage of one search; not shared between threads (one per search)."""

    def __init__(self) -> None:
        """Start the clock for the whole search."""
        self.start = time.perf_counter()
        self.ms: dict[str, float] = {}
        self._open: list[float] = []  # per stage being timed: the seconds spent in stages nested inside it

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the enclosed block as (part of) stage `name`; repeated stages add up, and a stage nested inside another
        counts for itself only (the query's vector encoded while translating is `encode`, not `translate`)."""
        t0 = time.perf_counter()
        self._open.append(0.0)
        try:
            yield
        finally:
            elapsed = time.perf_counter() - t0
            nested = self._open.pop()
            self.ms[name] = self.ms.get(name, 0.0) + (elapsed - nested) * 1000
            if self._open:
                self._open[-1] += elapsed

    def total_ms(self) -> float:
        """Milliseconds since the search started."""
        return (time.perf_counter() - self.start) * 1000

    def timings(self) -> dict[str, float]:
        """Each stage of STAGES (0 if it did not run), any other timed stage, `other` and `total`, in ms."""
        total = self.total_ms()
        names = [*STAGES, *(n for n in self.ms if n not in STAGES)]
        out = {name: round(self.ms.get(name, 0.0), 2) for name in names}
        out["other"] = round(max(0.0, total - sum(self.ms.values())), 2)
        out["total"] = round(total, 2)
        return out
