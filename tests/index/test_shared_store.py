"""Replicas of the shared PostgreSQL store: the change log, catching up from empty, access re-checked at read time,
originals for every replica, and search equal to the embedded store's."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from pactkb.index.filters import Filters
from pactkb.index.kb import KnowledgeBase
from pactkb.index.shared_store import ReplicaStore
from pactkb.index.store import StoreError
from pactkb.settings import Settings
from tests.index.contracts.conftest import add_document, remove_document

pytestmark = pytest.mark.postgres
VEC = np.eye(4, dtype=np.float32)


@pytest.fixture
def pair(pg_database: str, tmp_path: Path) -> tuple[ReplicaStore, ReplicaStore]:
    """Two replicas (separate data directories) of one shared store."""
    return ReplicaStore(tmp_path / "A", pg_database), ReplicaStore(tmp_path / "B", pg_database)


def changes(store: ReplicaStore) -> list[tuple[str, str]]:
    """The shared change log as (document, operation), in order."""
    return [(r[0], r[1]) for r in store.shared.conn().execute("SELECT doc_id, op FROM changes ORDER BY seq")]


def test_every_document_change_is_logged_in_order(pair: tuple) -> None:
    a, _ = pair
    add_document(a, "d1", ["Cash couriers."], VEC[:1])
    with a.transaction() as tx:
        tx.update_document("d1", {"title": "Money"})
    with a.transaction() as tx:
        tx.update_document("d1", {"sensitivity": "restricted"})
    remove_document(a, "d1")
    assert changes(a) == [("d1", "add"), ("d1", "update"), ("d1", "sensitivity"), ("d1", "delete")]


def test_a_replica_follows_additions_edits_and_deletions(pair: tuple) -> None:
    a, b = pair
    ids = add_document(a, "d1", ["Cash couriers at the border."], VEC[:1], title="Cash")
    assert b.fts_search('"cash"', 5, Filters()) == []  # B has not caught up yet
    assert b.lag() > 0 and not b.replication()["caught_up"]
    assert b.catch_up() == 1
    assert [cid for cid, _ in b.fts_search('"cash"', 5, Filters())] == ids  # the same chunk ids on every replica
    assert b.log_since(0) == [(1, ids[0], 1)]  # B's vector index replays the chunk from B's own log
    with a.transaction() as tx:
        tx.update_document("d1", {"title": "Money laundering"})
    b.catch_up()
    assert [cid for cid, _ in b.fts_search('"laundering"', 5, Filters())] == ids
    assert b.replication() == {"applied": b.cursor(), "head": b.cursor(), "lag": 0, "caught_up": True}


def test_a_delete_or_a_lowered_clearance_holds_on_every_replica_before_it_catches_up(pair: tuple) -> None:
    a, b = pair
    ids = add_document(a, "d1", ["Cash couriers."], VEC[:1])
    add_document(a, "d2", ["Cash at the border."], VEC[1:2])
    b.catch_up()
    with a.transaction() as tx:
        tx.update_document("d2", {"sensitivity": "confidential"})
    remove_document(a, "d1")
    assert b.lag() > 0  # B's local copy still has both as they were ...
    assert b.document("d1") is None  # ... but what it answers comes from the shared store now
    assert b.hit_rows(ids, Filters()) == {}
    assert b.visible_chunk(ids[0], Filters()) is None
    d2 = [cid for cid, _ in b.stored_chunks("d2")]
    assert b.hit_rows(d2, Filters(clearance="restricted")) == {}
    assert set(b.hit_rows(d2, Filters(clearance="confidential"))) == set(d2)
    b.catch_up()
    assert b.fts_search('"couriers"', 5, Filters()) == []


def test_a_new_replica_starts_empty_and_catches_up(pg_database: str, tmp_path: Path) -> None:
    a = ReplicaStore(tmp_path / "A", pg_database)
    for i in range(5):
        add_document(a, f"d{i}", [f"Passage number {i} about cash."], VEC[i % 4 : i % 4 + 1])
    remove_document(a, "d3")
    late = ReplicaStore(tmp_path / "late", pg_database)  # catches up as it opens
    assert late.replication()["caught_up"]
    assert sorted(late.admitted([f"d{i}" for i in range(5)], Filters())) == ["d0", "d1", "d2", "d4"]
    assert len(late.fts_search('"cash"', 10, Filters())) == 4
    ids, vecs = next(late.iter_vectors())
    assert len(ids) == 4 and np.allclose(
        vecs, np.stack([c.vector for d in ("d0", "d1", "d2", "d4") for _, c in a.stored_chunks(d)])
    )


def test_a_store_restored_from_an_older_backup_is_reconciled(pair: tuple) -> None:
    a, b = pair
    add_document(a, "kept", ["Cash couriers."], VEC[:1])
    add_document(a, "lost", ["Drones over rivers."], VEC[1:2])
    b.catch_up()
    con = a.shared.conn()  # the restore: 'lost' and the log entries after 'kept' never happened
    con.execute("DELETE FROM documents WHERE id = 'lost'")
    con.execute("DELETE FROM changes WHERE doc_id = 'lost'")
    assert b.shared.log_seq() < b.cursor()
    b.catch_up()
    assert b.fts_search('"drones"', 5, Filters()) == [] and b.replication()["caught_up"]


def test_a_replica_whose_local_copy_is_at_an_older_schema_migrates_it_on_open(pg_database: str, tmp_path: Path) -> None:
    """The keyword-text migration of a replica's local copy reads its own mark (the local meta table), not the shared
    store's: a replica of schema 3 once failed to open (it asked the shared store before it had one)."""
    import sqlite3

    from pactkb.index.store import DB_NAME, REINDEXED_THROUGH, SCHEMA_VERSION

    a = ReplicaStore(tmp_path / "A", pg_database)
    add_document(a, "d0", ["Customs officers seize undeclared cash."], VEC[:1])
    a.close()
    con = sqlite3.connect(tmp_path / "A" / DB_NAME)
    con.execute("PRAGMA user_version = 3")
    con.commit()
    con.close()
    again = ReplicaStore(tmp_path / "A", pg_database)
    con = sqlite3.connect(tmp_path / "A" / DB_NAME)
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert con.execute("SELECT value FROM meta WHERE key = ?", (REINDEXED_THROUGH,)).fetchone() is None
    con.close()
    assert len(again.fts_search('"cash"', 5, Filters())) == 1


def test_a_local_copy_of_another_shared_store_is_refused(pg_database: str, tmp_path: Path) -> None:
    a = ReplicaStore(tmp_path / "A", pg_database)
    a.shared.conn().execute("UPDATE meta SET value = 'a-restored-or-other-database' WHERE key = 'store_id'")
    with pytest.raises(StoreError, match="another shared store"):
        ReplicaStore(tmp_path / "A", pg_database)


def test_originals_reach_a_replica_that_never_saw_the_file(pg_settings: Settings, tmp_path: Path, make_pdf) -> None:
    pdf = make_pdf("guide.pdf", [["Cash couriers at border crossings."]], title="Guide")
    a = KnowledgeBase(pg_settings)
    a.indexer.ingest([pdf])
    doc = a.store.list_documents(Filters())[1][0]
    b = KnowledgeBase(pg_settings.model_copy(update={"data": tmp_path / "B"}))
    assert not (b.store.data_dir / doc.stored_path).exists()
    got = b.store.original(doc.stored_path)
    assert got is not None and got.read_bytes() == pdf.read_bytes()
    a.indexer.writer.delete(doc.id)
    assert a.store.shared.original_bytes(doc.stored_path) is None  # no document keeps it: gone from the database


def test_a_stale_replica_counts_nothing_the_shared_store_no_longer_admits(
    pg_settings: Settings, sample_dir: Path, tmp_path: Path
) -> None:
    """Before the replica catches up, a search's hits, total and facets already leave out a document whose clearance
    was just lowered elsewhere (every candidate is re-checked against the shared store: a count would be a leak)."""
    a = KnowledgeBase(pg_settings)
    a.indexer.ingest([sample_dir])
    b = KnowledgeBase(pg_settings.model_copy(update={"data": tmp_path / "B"}))  # caught up as it opens
    public = Filters(clearance="public")
    before = b.searcher.search("cash couriers border", k=10, filters=public)
    doc_id = before.results[0].document_id
    with a.store.transaction() as tx:
        tx.update_document(doc_id, {"sensitivity": "confidential"})
    assert b.store.lag() > 0  # nobody has caught B up: no follower thread in this test
    after = b.searcher.search("cash couriers border", k=10, filters=public)
    assert doc_id not in {h.document_id for h in after.results}
    assert after.total < before.total
    assert sum(after.facets["doc_type"].values()) == sum(before.facets["doc_type"].values()) - 1  # documents
    assert b.store.lag() > 0  # still not caught up: the answers above came from the re-check


QUERIES = ["cash couriers border", "trafficking in human beings", "finansijske istrage", "cybercrime ransomware"]


def test_search_on_the_shared_store_ranks_as_the_embedded_one(
    settings: Settings, pg_database: str, sample_dir: Path
) -> None:
    """The same corpus, the same encoder: the same hits in the same order with the same scores, in every mode."""
    embedded = KnowledgeBase(settings.model_copy(update={"database_url": None}))
    embedded.indexer.ingest([sample_dir])
    shared = KnowledgeBase(
        settings.model_copy(update={"data": settings.data.parent / "pg", "database_url": pg_database})
    )
    shared.indexer.ingest([sample_dir])
    for query in QUERIES:
        for mode in ("dense", "lexical", "hybrid"):
            want = embedded.searcher.search(query, k=10, mode=mode)
            got = shared.searcher.search(query, k=10, mode=mode)
            assert want.results, (query, mode)
            assert [(h.document_id, h.chunk_id, round(h.score, 9)) for h in got.results] == [
                (h.document_id, h.chunk_id, round(h.score, 9)) for h in want.results
            ], (query, mode)
            assert got.total == want.total and got.facets == want.facets
            assert [h.section_pages for h in got.results] == [h.section_pages for h in want.results], (query, mode)


def test_a_replica_derives_its_own_bridge_and_ranks_as_the_ingesting_one(
    pg_settings: Settings, sample_dir: Path, tmp_path: Path
) -> None:
    """What a data directory derives at publish time (the FAISS file, the bridge's English words for translated
    queries) is built by each replica from its copy, so a follower answers Serbian queries as the ingesting one."""
    with_bridge = pg_settings.model_copy(update={"dictionaries": "/usr/share/dictd"})  # Debian's FreeDict (system-deps)
    a = KnowledgeBase(with_bridge)
    a.indexer.ingest([sample_dir])
    b = KnowledgeBase(with_bridge.model_copy(update={"data": tmp_path / "B"}))
    assert (b.store.data_dir / "index" / "dense.json").exists()
    assert (
        sorted(p.name for p in (b.store.data_dir / "index").glob("bridge-*"))
        == sorted(p.name for p in (a.store.data_dir / "index").glob("bridge-*"))
        != []
    )
    for query in ("pranje novca granica", "trgovina ljudima", "gotovina kuriri"):
        want = a.searcher.search(query, k=10)
        got = b.searcher.search(query, k=10)
        assert got.translation == want.translation
        assert [(h.chunk_id, round(h.score, 9)) for h in got.results] == [
            (h.chunk_id, round(h.score, 9)) for h in want.results
        ]


def test_a_following_replica_wakes_on_the_change_notification(pair: tuple) -> None:
    """With the polling interval an hour long, a change still reaches a following replica: the writing transaction's
    NOTIFY wakes it (the polling fallback would not come round for an hour)."""
    a, b = pair
    stop, woke = threading.Event(), threading.Event()
    follower = threading.Thread(target=b.follow, args=(3600.0, stop, lambda n: woke.set()), daemon=True)
    follower.start()
    try:
        listening = (
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND query = 'LISTEN pactkb_changes'"
        )
        for _ in range(600):  # until the follower has subscribed (it does so before its first round)
            if a.shared.conn().execute(listening).fetchone()[0]:
                break
            stop.wait(0.1)
        else:
            raise AssertionError("the follower never listened for change notifications")
        ids = add_document(a, "d1", ["Cash couriers at the border."], VEC[:1], title="Cash")
        assert woke.wait(timeout=120), "the notification did not wake the follower"
        assert b.cursor() == a.shared.log_seq() and [cid for cid, _ in b.fts_search('"cash"', 5, Filters())] == ids
    finally:
        stop.set()
        follower.join(timeout=30)
    assert not follower.is_alive()  # a stop is heard while waiting for a notification
