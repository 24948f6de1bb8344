"""The contract every store keeps (index/stores.py), run against the embedded SQLite store and a replica of the shared
PostgreSQL store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pactkb.index.filters import Filters
from pactkb.index.store import ModelMismatchError, Store
from pactkb.index.stores import KnowledgeStore, open_store
from pactkb.settings import Settings
from tests.index.contracts.conftest import add_document, remove_document

KINDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
VEC = np.eye(4, dtype=np.float32)


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest, settings: Settings) -> Store:
    """An empty store of each kind, opened as `open_store` opens it."""
    if request.param == "postgres":
        settings = request.getfixturevalue("pg_settings")
    return open_store(settings)


@pytest.fixture
def filled(store: Store) -> tuple[Store, dict[str, list[int]]]:
    """Three documents of different types, languages and sensitivities."""
    ids = {
        "cash": add_document(
            store, "cash", ["Cash couriers at the border.", "Undeclared cash."], VEC[:2], title="Cash"
        ),
        "cyber": add_document(
            store, "cyber", ["Ransomware gangs."], VEC[2:3], title="Cyber", doc_type="report", sensitivity="restricted"
        ),
        "sr": add_document(store, "sr", ["Finansijske istrage."], VEC[3:], title="Istrage", language="sr"),
    }
    return store, ids


def test_a_document_reads_back_with_its_chunks_and_vectors(filled: tuple) -> None:
    store, ids = filled
    assert isinstance(store, KnowledgeStore)
    rec = store.document("cash")
    assert (rec.title, rec.doc_type, rec.sensitivity, rec.chunk_count) == ("Cash", "guideline", "public", 2)
    chunks = store.stored_chunks("cash")
    assert [cid for cid, _ in chunks] == ids["cash"]
    assert [c.text for _, c in chunks] == ["Cash couriers at the border.", "Undeclared cash."]
    assert np.allclose(np.stack([c.vector for _, c in chunks]), VEC[:2])
    assert store.document("nothing") is None


def test_filters_admit_the_same_chunks(filled: tuple) -> None:
    store, ids = filled
    public = Filters(clearance="public")
    assert set(store.filtered_chunk_ids(public)) == set(ids["cash"] + ids["sr"])
    assert set(store.filtered_chunk_ids(Filters(doc_types=("report",)))) == set(ids["cyber"])
    assert set(store.filtered_chunk_ids(Filters(languages=("SR",)))) == set(ids["sr"])
    assert set(store.hit_rows(ids["cyber"] + ids["cash"], public)) == set(ids["cash"])
    assert store.admitted(["cash", "cyber", "gone"], public) == {"cash"}
    assert store.count_documents(public) == 2


def test_full_text_search_ranks_within_filters(filled: tuple) -> None:
    store, ids = filled
    found = store.fts_search('"cash" OR "border"', 10, Filters())
    assert [cid for cid, _ in found] == ids["cash"]
    assert found[0][1] > found[1][1]
    assert store.fts_search('"ransomware"', 10, Filters(clearance="public")) == []


def test_a_relabelled_document_leaves_lower_clearances_at_once(filled: tuple) -> None:
    store, ids = filled
    with store.transaction() as tx:
        tx.update_document("cash", {"sensitivity": "confidential", "title": "Money"})
    assert store.document("cash").sensitivity == "confidential"
    assert store.hit_rows(ids["cash"], Filters(clearance="restricted")) == {}
    assert set(store.hit_rows(ids["cash"], Filters(clearance="confidential"))) == set(ids["cash"])
    assert [cid for cid, _ in store.fts_search('"money"', 10, Filters())] != []  # the title is re-indexed


def test_a_deleted_document_is_gone_everywhere_and_logged_for_the_vector_index(filled: tuple) -> None:
    store, ids = filled
    seq = store.log_seq()
    remove_document(store, "cash")
    assert store.document("cash") is None
    assert store.hit_rows(ids["cash"], Filters()) == {}
    assert store.fts_search('"cash"', 10, Filters()) == []
    assert sorted((cid, op) for _, cid, op in store.log_since(seq)) == [(cid, -1) for cid in ids["cash"]]
    assert store.log_seq() > seq
    remaining = np.concatenate([i for i, _ in store.iter_vectors()])
    assert set(remaining) == set(ids["cyber"] + ids["sr"])


def test_a_failed_transaction_leaves_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.insert_document(
            {"id": "x", "sha256": "x", "title": "x", "kind": "txt", "source_name": "x", "size": 1, "pages": 1}
        )
        raise RuntimeError("interrupted")
    assert store.document("x") is None
    assert store.list_documents(Filters())[0] == 0


def test_documents_list_sorted_and_paged(filled: tuple) -> None:
    store, _ = filled
    total, page = store.list_documents(Filters(), sort="title", limit=2)
    assert total == 3 and [d.id for d in page] == ["cash", "cyber"]
    assert [d.id for d in store.list_documents(Filters(), title="str")[1]] == ["sr"]
    assert [d.id for d in store.list_documents(Filters(), sort="title", offset=2)[1]] == ["sr"]


def test_languages_read_back_as_stored(filled: tuple) -> None:
    store, _ = filled
    add_document(store, "none", ["No language."], language=None)
    assert sorted(store.stored_languages()) == [("en", "cash.txt"), ("en", "cyber.txt"), ("sr", "sr.txt")]


def test_path_mappings(filled: tuple) -> None:
    store, _ = filled
    with store.transaction() as tx:
        tx.map_file("/corpus/cash.pdf", "cash", "cash", 1.0, 10)
    assert store.file_entry("/corpus/cash.pdf")["doc_id"] == "cash"
    assert store.paths_of("cash") == ["/corpus/cash.pdf"]
    assert store.document("cash").files == ["/corpus/cash.pdf"]


def test_the_encoder_is_bound_once(store: Store) -> None:
    store.bind_model("fake-a", 4, "fp32")
    assert store.model_info() == ("fake-a", 4)
    store.bind_model("fake-a", 4, "fp32")
    with pytest.raises(ModelMismatchError):
        store.bind_model("fake-b", 4, "fp32")


def test_a_stored_original_is_readable(store: Store, tmp_path: Path) -> None:
    rel = "files/abc.pdf"
    (store.data_dir / rel).write_bytes(b"%PDF original")
    with store.transaction() as tx:
        tx.insert_document(
            {
                "id": "o",
                "sha256": "abc",
                "title": "o",
                "kind": "pdf",
                "source_name": "o.pdf",
                "size": 13,
                "pages": 1,
                "stored_path": rel,
            }  # fmt: skip
        )
    (store.data_dir / rel).unlink()  # a replica that never had it (PostgreSQL keeps the bytes; SQLite does not)
    got = store.original(rel)
    if isinstance(store, Store) and type(store) is Store:
        assert got is None
    else:
        assert got is not None and got.read_bytes() == b"%PDF original"
