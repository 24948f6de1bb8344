"""The store's hit lookups stay proportional to the hits, not to the store: SQLite's query plans, checked."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from pactkb.index.filters import Filters
from pactkb.index.store import Store
from pactkb.settings import Settings
from tests.index.contracts.conftest import add_document


def plans(store: Store, call: Callable[[sqlite3.Connection], object]) -> list[list[str]]:
    """The query plan of every SELECT a store call runs."""
    con = store.conn()
    seen: list[str] = []
    con.set_trace_callback(seen.append)
    try:
        call(con)
    finally:
        con.set_trace_callback(None)
    out = []
    for sql in (s for s in seen if s.lstrip().upper().startswith("SELECT")):
        out.append([row[3] for row in con.execute("EXPLAIN QUERY PLAN " + sql)])
    return out


def test_hits_are_looked_up_by_chunk_id_first_whatever_the_clearance(settings: Settings) -> None:
    store = Store(settings.data)
    ids = [cid for i in range(60) for cid in add_document(store, f"d{i}", [f"text {i}.{j}" for j in range(3)])]
    public = Filters(clearance="public")  # a page of candidates, as fusion asks for (SQLite chose to start from
    store.hit_rows(ids[:1], public)  # which documents the clearance admits: read once per documents version
    for call in (  # every public document through the sensitivity index here, a cost growing with the store)
        lambda con: store.hit_rows(ids[::2], public, con),
        lambda con: store.visible_chunk(ids[0], public, con),
    ):
        for plan in plans(store, call):
            assert "chunks" in plan[0] or plan[0].startswith(("SEARCH c ", "SEARCH meta ")), plan  # chunks by id
            assert not any(step.startswith("SCAN") for step in plan), plan  # nothing read whole per lookup
            assert not any("documents_sens" in step for step in plan), plan  # never every admitted document
    assert set(store.hit_rows(ids[::2], public)) == set(ids[::2])
    assert store.visible_chunk(ids[0], Filters(clearance="public")) is not None
