"""Thread pools for single queries: one BLAS thread, so small matrix products don't wake (and wait for) a pool.

On a 2-core machine a query's numpy/FAISS products are tiny; a second BLAS thread costs more in wake-up and
contention with the encoder's OpenMP pool than it gains (measured on the shared corpus with OMP_WAIT_POLICY=PASSIVE:
hybrid p50 ~28 → ~25 ms, p95 ~41 → ~33 ms).
Batch work (ingestion, index training) keeps every thread.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import lru_cache

from threadpoolctl import ThreadpoolController


@lru_cache(maxsize=1)
def _controller() -> ThreadpoolController:
    """The process's thread pools, found once (after numpy, FAISS and torch are loaded)."""
    return ThreadpoolController()


@contextlib.contextmanager
def single_blas_thread() -> Iterator[None]:
    """Run the block with one BLAS thread in every loaded BLAS library."""
    with _controller().limit(limits=1, user_api="blas"):
        yield
