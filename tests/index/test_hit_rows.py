"""The query path's memos of store state: hit rows (chunks read by id, their documents' columns and admission kept per
documents version) and section page spans (kept per store state) never outlive a change, and never carry one
clearance's or filter's admission over to another."""

from __future__ import annotations

import sqlite3

import numpy as np

from pactkb.index.filters import Filters
from pactkb.index.kb import KnowledgeBase
from pactkb.index.results import Hit
from pactkb.index.store import HIT_CHUNK_COLUMNS, HIT_DOCUMENT_COLUMNS, NewChunk, Store
from pactkb.settings import Settings
from tests.index.contracts.conftest import add_document


def joined_rows(store: Store, ids: list[int], filters: Filters) -> dict[int, dict[str, object]]:
    """The hit rows as one JOIN with the filters would give them (what the memos must reproduce)."""
    from pactkb.index.store import filter_clause, marks

    where, params = filter_clause(filters)
    columns = ", ".join([*(f"c.{c}" for c in HIT_CHUNK_COLUMNS), *(f"d.{c}" for c in HIT_DOCUMENT_COLUMNS)])
    con = store.conn()
    con.row_factory = sqlite3.Row
    rows = con.execute(
        f"SELECT {columns} FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE c.id IN ({marks(ids)}) AND {where}",
        [*ids, *params],
    ).fetchall()
    return {r["id"]: dict(zip([*HIT_CHUNK_COLUMNS, *HIT_DOCUMENT_COLUMNS], tuple(r), strict=True)) for r in rows}


def test_hit_rows_equal_the_joined_rows_under_every_clearance_and_filter(settings: Settings) -> None:
    store = Store(settings.data)
    ids = add_document(store, "pub", ["a public passage", "another"], title="Open guide")
    ids += add_document(store, "conf", ["a confidential finding"], sensitivity="confidential", doc_type="report")
    ids += add_document(store, "res", ["a restricted note"], sensitivity="restricted", title="Note")
    for filters in (  # everything first: its admission must not leak into the narrower clearances after it
        Filters(),
        Filters(clearance="confidential"),
        Filters(clearance="public"),
        Filters(clearance="restricted"),
        Filters(doc_types=("report",)),
        Filters(doc_types=("report",), clearance="public"),
    ):
        got = store.hit_rows(ids, filters)
        assert got == joined_rows(store, ids, filters), filters
        assert all(r["text"] for r in got.values())
        assert all(r["text"] is None for r in store.hit_rows(ids, filters, text=False).values())
    assert set(store.hit_rows(ids, Filters(clearance="public"))) == set(ids[:2])
    assert set(store.hit_rows(ids, Filters(clearance="confidential"))) == set(ids)


def test_a_document_change_is_seen_by_the_next_lookup(settings: Settings) -> None:
    store = Store(settings.data)
    ids = add_document(store, "d1", ["a passage"], title="Old title")
    public = Filters(clearance="public")
    assert store.hit_rows(ids, public)[ids[0]]["title"] == "Old title"  # both memos filled
    with store.transaction() as tx:
        tx.update_document("d1", {"title": "New title"})
    assert store.hit_rows(ids, public)[ids[0]]["title"] == "New title"
    with store.transaction() as tx:
        tx.update_document("d1", {"sensitivity": "restricted"})
    assert store.hit_rows(ids, public) == {}  # no longer admitted to a public caller
    assert store.hit_rows(ids, Filters(clearance="restricted"))[ids[0]]["sensitivity"] == "restricted"
    more = add_document(store, "d2", ["a new passage"], title="Added")
    assert set(store.hit_rows(ids + more, Filters())) == {*ids, *more}
    with store.transaction() as tx:
        tx.delete_document("d2")
    assert set(store.hit_rows(ids + more, Filters())) == set(ids)


def sectioned_document(store: Store, doc_id: str, pages: list[int]) -> None:
    """A document whose chunks (one per page given) all belong to section '1 Intro'."""
    chunks = [
        NewChunk(i, f"text {i}", f"{doc_id}-{i}", p, p, None, None, "1 Intro", 2, np.zeros(64, dtype=np.float32))
        for i, p in enumerate(pages)
    ]
    with store.transaction() as tx:
        tx.insert_document(
            {
                "id": doc_id,
                "sha256": doc_id,
                "title": doc_id,
                "kind": "txt",
                "source_name": doc_id,
                "size": 1,
                "pages": 9,
            },
        )
        tx.insert_chunks(doc_id, doc_id, chunks, "en")


def test_section_spans_are_cached_until_the_chunks_change(settings: Settings) -> None:
    kb = KnowledgeBase(settings)
    sectioned_document(kb.store, "d1", [2, 3])
    searcher = kb.searcher
    assert searcher.section_spans({("d1", "1 Intro"), ("d1", "no such section")}) == {("d1", "1 Intro"): (2, 3)}
    assert len(searcher._section_spans) == 2  # the absent section is remembered too
    assert searcher.section_spans({("d1", "1 Intro")}) == {("d1", "1 Intro"): (2, 3)}
    assert len(searcher._section_spans) == 2  # answered from the cache
    with kb.store.transaction() as tx:
        tx.delete_document("d1")
    sectioned_document(kb.store, "d1", [5, 9])  # the same document and section, re-ingested with other pages
    assert searcher.section_spans({("d1", "1 Intro")}) == {("d1", "1 Intro"): (5, 9)}


def test_a_hit_takes_each_field_from_its_own_column() -> None:
    row = {c: f"<{c}>" for c in (*HIT_CHUNK_COLUMNS, *HIT_DOCUMENT_COLUMNS)} | {"areas": '["cyber"]'}
    hit = Hit.from_row(row, 0.5, 0.25, 0.125)
    assert (hit.chunk_id, hit.document_id, hit.text, hit.title, hit.file) == (
        "<id>",
        "<doc_id>",
        "<text>",
        "<title>",
        "<source_name>",
    )
    assert (hit.page_start, hit.page_end, hit.label_start, hit.label_end, hit.section, hit.region) == (
        "<page_start>",
        "<page_end>",
        "<label_start>",
        "<label_end>",
        "<section>",
        "<region>",
    )
    assert (hit.publisher, hit.year, hit.doc_type, hit.language, hit.sensitivity) == (
        "<publisher>",
        "<year>",
        "<doc_type>",
        "<language>",
        "<sensitivity>",
    )
    assert (hit.score, hit.dense_score, hit.lexical_score, hit.areas, hit.snippet) == (0.5, 0.25, 0.125, ["cyber"], "")


def test_hits_of_one_document_get_parsed_areas_each_of_their_own() -> None:
    row = {c: f"<{c}>" for c in (*HIT_CHUNK_COLUMNS, *HIT_DOCUMENT_COLUMNS)} | {"areas": '["cyber", "drugs"]'}
    first, second = Hit.from_row(row, 0.5, None, None), Hit.from_row(row, 0.4, None, None)
    first.areas.append("changed")  # a caller editing one hit's list must not change another hit's (or the cache)
    assert second.areas == ["cyber", "drugs"]
    assert Hit.from_row(row, 0.3, None, None).areas == ["cyber", "drugs"]
    assert Hit.from_row(row | {"areas": None}, 0.3, None, None).areas == []
    assert Hit.from_row(row | {"areas": "[]"}, 0.3, None, None).areas == []


def chunk_reads(store: Store) -> list[str]:
    """The statements reading chunks by id on this thread's connection, from now on (appended as they run)."""
    seen: list[str] = []
    store.conn().set_trace_callback(lambda sql: seen.append(sql) if "FROM chunks WHERE id IN" in sql else None)
    return seen


def test_rows_without_text_are_read_once_per_store_state_and_equal_the_joined_rows(settings: Settings) -> None:
    store = Store(settings.data)
    ids = add_document(store, "pub", ["a public passage", "another"], title="Open guide")
    ids += add_document(store, "res", ["a restricted note"], sensitivity="restricted", title="Note")
    reads = chunk_reads(store)
    for filters in (Filters(), Filters(clearance="public"), Filters(clearance="restricted"), Filters()):
        want = {cid: {**row, "text": None} for cid, row in joined_rows(store, ids, filters).items()}
        assert store.hit_rows(ids, filters, text=False) == want, filters
    assert len(reads) == 1  # the first lookup read every row; the others (any filters) came from the cache
    assert list(store.hit_rows(ids[::-1] + ids, Filters(), text=False)) == sorted(ids)  # ascending, once each


def test_cached_rows_are_re_checked_against_the_callers_filters_every_time(settings: Settings) -> None:
    store = Store(settings.data)
    ids = add_document(store, "pub", ["a public passage"])
    ids += add_document(store, "conf", ["a confidential finding"], sensitivity="confidential", doc_type="report")
    assert set(store.hit_rows(ids, Filters(clearance="confidential"), text=False)) == set(ids)  # both cached
    assert set(store.hit_rows(ids, Filters(clearance="public"), text=False)) == set(ids[:1])
    assert set(store.hit_rows(ids, Filters(doc_types=("report",)), text=False)) == set(ids[1:])
    assert store.hit_rows(ids[1:], Filters(clearance="restricted"), text=False) == {}


def test_a_caller_editing_its_rows_does_not_change_the_cache(settings: Settings) -> None:
    store = Store(settings.data)
    ids = add_document(store, "d1", ["a passage"], title="Title")
    store.hit_rows(ids, Filters(), text=False)[ids[0]]["title"] = "edited by a caller"
    assert store.hit_rows(ids, Filters(), text=False)[ids[0]]["title"] == "Title"


def test_cached_rows_follow_metadata_clearance_and_chunk_changes(settings: Settings) -> None:
    store = Store(settings.data)
    ids = add_document(store, "d1", ["a passage"], title="Old title")
    public = Filters(clearance="public")
    assert store.hit_rows(ids, public, text=False)[ids[0]]["title"] == "Old title"
    with store.transaction() as tx:
        tx.update_document("d1", {"title": "New title"})
    assert store.hit_rows(ids, public, text=False)[ids[0]]["title"] == "New title"
    with store.transaction() as tx:
        tx.update_document("d1", {"sensitivity": "restricted"})
    assert store.hit_rows(ids, public, text=False) == {}
    assert store.hit_rows(ids, Filters(clearance="restricted"), text=False)[ids[0]]["sensitivity"] == "restricted"
    more = add_document(store, "d2", ["a new passage"], title="Added")
    assert set(store.hit_rows(ids + more, Filters(), text=False)) == {*ids, *more}
    with store.transaction() as tx:
        removed = tx.delete_chunks_of("d2")  # chunks removed, the document kept: only the change log moves
    assert removed == 1
    assert set(store.hit_rows(ids + more, Filters(), text=False)) == set(ids)


def test_newest_editions_equal_the_stores_and_follow_a_new_edition(settings: Settings) -> None:
    kb = KnowledgeBase(settings)
    store, searcher = kb.store, kb.searcher
    for year, sensitivity in ((2019, "public"), (2022, "public"), (2025, "confidential")):
        add_document(store, f"g{year}", [f"passage {year}"], title=f"Guidance on cash couriers ({year} edition)")
        with store.transaction() as tx:
            tx.update_document(f"g{year}", {"year": year, "publisher": "CEPOL", "sensitivity": sensitivity})
    rows = store.hit_rows([int(i) for i in store.chunk_ids()], Filters())
    families = {r["family"] for r in rows.values()}
    assert len(families) == 1
    for clearance in (None, "public", "confidential"):
        filters = Filters(clearance=clearance)
        want = store.family_editions(families, filters)
        with store.snapshot() as con:
            got = searcher.newest_editions(rows, filters, con)
        assert {f: [e["id"] for e in eds] for f, eds in got.items()} == {
            f: [e["id"] for e in eds] for f, eds in want.items()
        }
    with store.snapshot() as con:
        assert [
            e["year"] for e in next(iter(searcher.newest_editions(rows, Filters(clearance="public"), con).values()))
        ] == [2022, 2019]
    with store.transaction() as tx:
        tx.update_document("g2025", {"sensitivity": "public"})  # the newest edition now visible to a public caller
    with store.snapshot() as con:
        editions = searcher.newest_editions(rows, Filters(clearance="public"), con)
    assert [e["year"] for e in next(iter(editions.values()))] == [2025, 2022, 2019]
