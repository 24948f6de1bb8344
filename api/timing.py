"""Server-Timing (W3C): where a request's time went, in a response header the caller and the browser's developer tools
read (`Server-Timing: auth;dur=0.05, search;dur=21.3, search.encode;dur=12.1, ..., total;dur=24.8`).

Every request gets `total` (the server's time from the middleware receiving the request to the response head) and the
parts that ran: `auth` (the credential check), `filters` (filter validation and the caller's clearance), `search`
(Searcher.search) with its stages as `search.<stage>` (index/profile.py), `response` (building the response model:
hits, links), `serialize` (FastAPI's response validation and JSON encoding), `audit` (queuing the audit event and the
request metrics), `dispatch` (handing the search to a worker thread and back: waiting for a thread and for the
interpreter), `other` (everything else: routing, parameter validation, the middleware). Only stage names and
milliseconds are written: never a query, an id or a count.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

HEADER = "Server-Timing"
STATE_KEY = "server_timing"  # where the request's timer lives in the ASGI scope's state
SEARCH_PREFIX = "search."
ROUTE_DONE = "route-done"  # marked when a route returns its result: serialisation is the time after it


class RequestTimer:
    """Milliseconds per named part of one request, in the order first timed."""

    def __init__(self) -> None:
        """Start the request's clock."""
        self.start = time.perf_counter()
        self.ms: dict[str, float] = {}
        self.marks: dict[str, float] = {}

    def add(self, name: str, ms: float) -> None:
        """Add `ms` to part `name` (parts timed twice add up)."""
        self.ms[name] = self.ms.get(name, 0.0) + ms

    @contextmanager
    def part(self, name: str) -> Iterator[None]:
        """Time the enclosed block as part `name`."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, (time.perf_counter() - t0) * 1000)

    def mark(self, name: str) -> None:
        """Remember this moment (e.g. when the route returned, so serialisation is the time after it)."""
        self.marks[name] = time.perf_counter()

    def since(self, mark: str) -> float | None:
        """Milliseconds since a mark (None if it was never set)."""
        t0 = self.marks.get(mark)
        return None if t0 is None else (time.perf_counter() - t0) * 1000

    def add_search(self, timings: Mapping[str, float]) -> None:
        """A search's profile: its total as `search`, each stage that ran as `search.<stage>`."""
        self.add("search", timings.get("total", 0.0))
        for stage, ms in timings.items():
            if stage != "total" and ms > 0:
                self.add(SEARCH_PREFIX + stage, ms)

    def header(self) -> str:
        """The Server-Timing header value: every part, `other` (the time outside every part: routing, parameter
        validation, the middleware) and `total` (the time since the request arrived)."""
        total = (time.perf_counter() - self.start) * 1000
        other = total - sum(ms for name, ms in self.ms.items() if not name.startswith(SEARCH_PREFIX))
        parts = [*self.ms.items(), ("other", max(0.0, other)), ("total", total)]
        return ", ".join(f"{name};dur={ms:.2f}" for name, ms in parts)


def request_timer(state: Any) -> RequestTimer | None:
    """The request's timer from its state (request.state), None when Server-Timing is off."""
    return getattr(state, STATE_KEY, None)


@contextmanager
def timed(state: Any, name: str) -> Iterator[None]:
    """Time the enclosed block as part `name` of the request (nothing when Server-Timing is off)."""
    timer = request_timer(state)
    if timer is None:
        yield
        return
    with timer.part(name):
        yield
