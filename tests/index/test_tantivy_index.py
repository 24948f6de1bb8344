"""The tantivy lexical index follows the store: across processes, crashes between its commit and its state file, a
lost state file (rebuilt from the store) and a store that moved backwards."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pactkb.index import tantivy_index
from pactkb.index.filters import Filters
from pactkb.index.fold import stemmed_text
from pactkb.index.lexical import index_tokens
from pactkb.index.store import Store
from pactkb.index.tantivy_index import FOLDER, STATE, TantivyIndex
from tests.index.contracts.conftest import add_document, new_store, remove_document

TEXTS = ["Cash couriers carry money across border crossings.", "Customs check undeclared cash at the border."]


def found(index: TantivyIndex, query: str) -> list[int]:
    """Chunk ids of a search, best first."""
    return [c for c, _ in index.search(query, 10, Filters())]


def test_a_second_process_sees_the_first_ones_changes(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    add_document(store, "a", TEXTS)
    one, two = TantivyIndex(store), TantivyIndex(Store(tmp_path))
    assert len(found(one, "cash")) == 2 and len(found(two, "cash")) == 2
    new = add_document(store, "b", ["Cash smuggling by air."])
    assert found(one, "smuggling") == new  # this one applies the log and commits
    assert found(two, "smuggling") == new  # the other one finds the state advanced and reloads


def test_a_crash_between_commit_and_state_replays_without_duplicates(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    add_document(store, "a", TEXTS)
    index = TantivyIndex(store)
    index.sync()
    state = (tmp_path / "index" / FOLDER / STATE).read_bytes()
    remove_document(store, "a")
    new = add_document(store, "b", ["Cash smuggling by air."])
    index.sync()
    (tmp_path / "index" / FOLDER / STATE).write_bytes(state)  # as if the process died before writing its state
    again = TantivyIndex(Store(tmp_path))
    assert found(again, "cash") == new
    assert again.term_counts(["cash"], Filters()) == {"cash": 1}


def test_without_a_state_file_the_index_is_rebuilt_from_the_store(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    ids = add_document(store, "a", TEXTS)
    TantivyIndex(store).sync()
    (tmp_path / "index" / FOLDER / STATE).unlink()  # a crash during a build
    index = TantivyIndex(Store(tmp_path))
    assert sorted(found(index, "cash")) == ids
    assert (tmp_path / "index" / FOLDER / STATE).exists()


def test_a_store_behind_the_index_is_indexed_again(tmp_path: Path) -> None:
    store = new_store(tmp_path / "now")
    add_document(store, "a", TEXTS)
    add_document(store, "b", ["Cash smuggling by air."])
    TantivyIndex(store).sync()
    older = new_store(tmp_path / "older")  # e.g. a store restored from an older backup under the same index
    ids = add_document(older, "a", TEXTS)
    (tmp_path / "older" / "index").rmdir() if (tmp_path / "older" / "index").exists() else None
    (tmp_path / "now" / "index").rename(tmp_path / "older" / "index")
    assert sorted(found(TantivyIndex(older), "cash")) == ids


def test_it_indexes_the_tokens_fts5_indexes(tmp_path: Path) -> None:
    """Porter as FTS5 applies it (-bli, -logi), separators and private-use characters as FTS5's unicode61 has them."""
    store = new_store(tmp_path)
    text = "Ostensibly, the assemblies' technology: Финансијске истраге, čokolada; possibly_responsibly 2024 \uf0b7!"
    cid = add_document(store, "a", [text], language="sr")[0]
    con = sqlite3.connect(tmp_path / "pactkb.sqlite3")
    con.execute("CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, 'chunks_fts', 'instance')")
    fts5 = [t for t, _ in con.execute("SELECT term, offset FROM temp.v WHERE doc=? AND col='body' ORDER BY 2", (cid,))]
    assert index_tokens(stemmed_text(text, "sr")) == fts5


def test_a_large_rebuild_tokenizes_in_worker_processes_to_the_same_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = new_store(tmp_path)
    add_document(store, "a", TEXTS)
    add_document(store, "b", ["Финансијске истраге прања новца."] * 3, language="sr")
    inline = TantivyIndex(store)
    expected = {q: found(inline, q) for q in ("cash border", "finansijsk", '"cash couriers"')}
    monkeypatch.setattr(tantivy_index, "PARALLEL_ABOVE", 1)
    monkeypatch.setattr(tantivy_index, "BUILD_BATCH", 2)
    parallel = TantivyIndex(store)
    assert parallel.rebuild() == 5
    assert {q: found(parallel, q) for q in expected} == expected


def test_a_reader_whose_snapshot_is_older_than_the_index_leaves_it_alone(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    old = add_document(store, "a", TEXTS)
    index = TantivyIndex(store)
    index.sync()
    reader = Store(tmp_path)  # another connection, as another server thread has
    with reader.snapshot() as con:
        assert reader.log_seq(con) == 2  # the snapshot starts at its first read
        add_document(store, "b", ["Cash smuggling by air."])
        index.sync()  # the writer's side moves the index ahead of the reader's snapshot
        ahead = index.state
        assert sorted(c for c, _ in index.search("cash border", 10, Filters(), con=con)) == old
        assert index.state == ahead and (tmp_path / "index" / FOLDER / STATE).exists()  # not rebuilt backwards
