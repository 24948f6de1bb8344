"""Prometheus metrics: request counts and latency by route, search time per stage, and the size of the index.

With several worker processes (`pactkb serve --workers N`) the counters live in Prometheus' multiprocess mode
(PROMETHEUS_MULTIPROC_DIR, set by `pactkb serve`), so a scrape of any worker adds up every worker's requests.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
STAGE_BUCKETS = (0.0005, 0.001, 0.0025, *BUCKETS)  # search stages take from microseconds to the whole request
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class IndexCollector:
    """Reports documents and chunks (those the scraping caller may see) at scrape time."""

    def __init__(self, sizes: Callable[[], dict[str, int]]) -> None:
        """`sizes` returns {'documents': n, 'chunks': n}."""
        self.sizes = sizes

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """One gauge per size."""
        for name, value in self.sizes().items():
            g = GaugeMetricFamily(
                f"pactkb_index_{name}",
                f"Number of {name.replace('_', ' ')} in the knowledge base within the scraping key's clearance",
            )
            g.add_metric([], value)
            yield g


class Metrics:
    """The service's request metrics; in multiprocess mode they are written to shared files and summed at scrape."""

    def __init__(self) -> None:
        """Create the counters and histograms (in the shared files when PROMETHEUS_MULTIPROC_DIR is set)."""
        self.multiprocess = bool(os.environ.get(MULTIPROC_ENV))
        own = None if self.multiprocess else CollectorRegistry()  # multiprocess values are read back from the files
        self.requests = Counter("pactkb_requests_total", "HTTP requests", ["method", "route", "status"], registry=own)
        self.latency = Histogram(
            "pactkb_request_seconds", "HTTP request latency", ["method", "route"], buckets=BUCKETS, registry=own
        )
        self.stages = Histogram(
            "pactkb_search_stage_seconds",
            "Time per search stage (index/profile.py: encode, dense, lexical, fusion, collapse, snippets, rows...)",
            ["stage"],
            buckets=STAGE_BUCKETS,
            registry=own,
        )
        self._own = own

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Record one request."""
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def observe_search(self, timings: Mapping[str, float]) -> None:
        """Record one search's time per stage (ms, as SearchResult.timings; stages that did not run are skipped)."""
        for stage, ms in timings.items():
            if ms > 0 or stage == "total":
                self.stages.labels(stage).observe(ms / 1000)

    def render(self, sizes: Callable[[], dict[str, int]]) -> tuple[bytes, str]:
        """The exposition text (every worker's requests, and the index sizes from `sizes`) and its content type."""
        registry = CollectorRegistry()
        if self.multiprocess:
            MultiProcessCollector(registry)
        requests = generate_latest(registry if self._own is None else self._own)
        index = CollectorRegistry()
        index.register(IndexCollector(sizes))
        return requests + generate_latest(index), CONTENT_TYPE_LATEST
