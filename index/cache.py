"""A small thread-safe LRU cache (cachetools' LRUCache behind a lock) for the searcher's per-query memos."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from cachetools import LRUCache

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(Generic[K, V]):
    """Values computed once per key, the least recently used dropped beyond `maxsize`; safe to share between threads
    (computing happens outside the lock: two threads may compute one key at once, the later result is kept)."""

    def __init__(self, maxsize: int) -> None:
        """An empty cache holding at most maxsize entries."""
        self._cache: LRUCache[K, V] = LRUCache(maxsize=maxsize)
        self._lock = threading.Lock()

    def get(self, key: K, compute: Callable[[], V]) -> V:
        """The cached value for key, else compute() (stored; None is a value like any other)."""
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        value = compute()
        with self._lock:
            self._cache[key] = value
        return value

    def get_many(self, keys: list[K], compute: Callable[[list[K]], list[V]]) -> list[V]:
        """The cached values for keys, the missing ones computed by one compute(missing) call (stored)."""
        with self._lock:
            found = {k: self._cache[k] for k in keys if k in self._cache}
        missing = [k for k in dict.fromkeys(keys) if k not in found]
        if missing:
            values = compute(missing)
            with self._lock:
                for k, v in zip(missing, values, strict=True):
                    self._cache[k] = v
            found.update(zip(missing, values, strict=True))
        return [found[k] for k in keys]

    def __len__(self) -> int:
        """Entries held."""
        with self._lock:
            return len(self._cache)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._cache.clear()
