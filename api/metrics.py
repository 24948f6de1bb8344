"""Prometheus metrics: request counts and latency by route, and the size of the index."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class IndexCollector:
    """Reports documents, chunks and dense vectors at scrape time."""

    def __init__(self, sizes: Callable[[], dict[str, int]]):
        """`sizes` returns {'documents': n, 'chunks': n, 'dense_vectors': n}."""
        self.sizes = sizes

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """One gauge per size."""
        for name, value in self.sizes().items():
            g = GaugeMetricFamily(f"pactkb_index_{name}", f"Number of {name.replace('_', ' ')} in the knowledge base")
            g.add_metric([], value)
            yield g


class Metrics:
    """A registry with the service's metrics (multi-process aware via PROMETHEUS_MULTIPROC_DIR)."""

    def __init__(self, sizes: Callable[[], dict[str, int]]):
        """Create the counters, histograms and the index collector."""
        self.registry = CollectorRegistry()
        self.requests = Counter("pactkb_requests_total", "HTTP requests", ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("pactkb_request_seconds", "HTTP request latency", ["method", "route"],
                                 buckets=BUCKETS, registry=self.registry)
        self.registry.register(IndexCollector(sizes))
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            MultiProcessCollector(self.registry)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Record one request."""
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
