"""Schema 4's migration (index/store.py, Store.reindex_all_text): the keyword text of an older store is re-indexed in
bounded transactions; a crash part-way leaves version 3 and the next open finishes it."""

import sqlite3

import pytest

from pactkb.index.fold import stemmed_text
from pactkb.index.kb import KnowledgeBase
from pactkb.index.store import DB_NAME, REINDEXED_THROUGH, SCHEMA_VERSION, Store, Tx, fts_title
from pactkb.settings import Settings

PARAGRAPH = "Customs officers seize undeclared cash at the border crossing, and the organised crime groups adapt. "


def version_3_store(tmp_path) -> tuple[Settings, int]:
    """A store as schema 3 indexed it (no Porter exceptions), with more chunks than a few batches; its chunk count."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for n in range(4):
        (docs / f"d{n}.txt").write_text("\n\n".join([PARAGRAPH * 6] * 5), encoding="utf-8")
    settings = Settings(data=tmp_path / "data", model="fake:64", parse_workers=0, field_glossaries=False)
    kb = KnowledgeBase(settings)
    kb.indexer.ingest([docs])
    kb.store.close()
    con = sqlite3.connect(settings.data / DB_NAME)
    con.execute("UPDATE chunks_fts SET body = lower((SELECT c.text FROM chunks c WHERE c.id = chunks_fts.rowid))")
    con.execute("UPDATE chunks_fts SET title = 'old'")
    con.execute("PRAGMA user_version = 3")
    con.commit()
    n = con.execute("SELECT count(*) FROM chunks").fetchone()[0]
    con.close()
    return settings, n


def stale_rows(settings: Settings) -> int:
    """FTS rows whose text or title differs from what schema 4 indexes."""
    con = sqlite3.connect(settings.data / DB_NAME)
    rows = con.execute(
        "SELECT f.body, f.title, c.text, c.section, d.language, d.title FROM chunks_fts f "
        "JOIN chunks c ON c.id = f.rowid JOIN documents d ON d.id = c.doc_id"
    ).fetchall()
    con.close()
    return sum((b, t) != (stemmed_text(text, lang), fts_title(dt, sec)) for b, t, text, sec, lang, dt in rows)


def user_version(settings: Settings) -> tuple[int, str | None]:
    """(PRAGMA user_version, the unfinished re-index's mark)."""
    con = sqlite3.connect(settings.data / DB_NAME)
    mark = con.execute("SELECT value FROM meta WHERE key = ?", (REINDEXED_THROUGH,)).fetchone()
    out = con.execute("PRAGMA user_version").fetchone()[0], mark[0] if mark else None
    con.close()
    return out


def test_a_store_larger_than_a_batch_is_reindexed_in_batches(tmp_path, monkeypatch, capfd):
    settings, n = version_3_store(tmp_path)
    batch = 3
    assert n > 3 * batch and stale_rows(settings) == n
    calls: list[int] = []
    reindex = Tx.reindex_chunks
    monkeypatch.setattr(Tx, "reindex_chunks", lambda tx, after, limit: calls.append(limit) or reindex(tx, after, limit))
    Store(settings.data, reindex_batch=batch)
    assert stale_rows(settings) == 0 and user_version(settings) == (SCHEMA_VERSION, None)
    assert len(calls) == n // batch + 1 and set(calls) == {batch}  # one transaction per batch, the last one shorter
    assert f"to schema {SCHEMA_VERSION} (keyword text)" in capfd.readouterr().err  # progress above one batch
    found = KnowledgeBase(settings).searcher.search("customs", mode="lexical", k=5).results
    assert found and all("ustoms" in h.text for h in found)


def test_a_crash_after_the_first_batch_leaves_version_3_and_the_next_open_finishes(tmp_path, monkeypatch):
    settings, n = version_3_store(tmp_path)
    batch = 4
    reindex = Tx.reindex_chunks

    def crash_on_the_second_batch(tx: Tx, after: int, limit: int) -> tuple[int, int]:
        if after:
            raise KeyboardInterrupt("killed")
        return reindex(tx, after, limit)

    monkeypatch.setattr(Tx, "reindex_chunks", crash_on_the_second_batch)
    with pytest.raises(KeyboardInterrupt):
        Store(settings.data, reindex_batch=batch)
    version, mark = user_version(settings)
    assert version == 3 and mark is not None and stale_rows(settings) == n - batch  # the first batch committed
    starts: list[int] = []
    record = lambda tx, after, limit: starts.append(after) or reindex(tx, after, limit)  # noqa: E731
    monkeypatch.setattr(Tx, "reindex_chunks", record)
    done = Store(settings.data, reindex_batch=batch)
    assert starts[0] == int(mark) and len(starts) == (n - batch) // batch + 1  # goes on from the mark, not from 0
    assert user_version(settings) == (SCHEMA_VERSION, None) and stale_rows(settings) == 0
    assert done.reindex_all_text(batch) == 0  # at version 4 there is nothing left to do


def test_a_batch_of_no_chunks_is_refused(tmp_path):
    settings, _ = version_3_store(tmp_path)
    with pytest.raises(ValueError, match="at least 1 chunk, not 0"):
        Store(settings.data, reindex_batch=0)
    assert user_version(settings) == (3, None)  # nothing changed


def test_a_new_store_starts_at_the_current_version(tmp_path):
    Store(tmp_path / "data")
    con = sqlite3.connect(tmp_path / "data" / DB_NAME)
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_section_heading_that_repeats_the_title_is_not_indexed_twice():
    title = "Analysis of 2021 Data from the National Human Trafficking Hotline"
    assert fts_title(title, f"{title} > Scale and Scope") == fts_title(title, "Scale and Scope")
    assert fts_title(title, "Trafficking Hotline > Recruitment").split().count("hotline") == 1
    assert (
        fts_title(title, "")
        == fts_title(title, title)
        == "analysis of 2021 data from the national human trafficking hotline"
    )
    assert fts_title("Report", "Annex 2 > Correspondent banking").endswith("annex 2 correspondent banking")
    assert "man" in fts_title("Human trafficking", "Man in the middle").split()  # whole words, not letters, repeat


def test_a_version_4_store_has_its_title_column_indexed_again_on_open(tmp_path):
    settings, n = version_3_store(tmp_path)
    Store(settings.data).close()
    con = sqlite3.connect(settings.data / DB_NAME)
    con.execute("UPDATE chunks_fts SET title = title || ' ' || title")  # as version 4 indexed a repeated title
    con.execute("PRAGMA user_version = 4")
    con.commit()
    con.close()
    assert stale_rows(settings) == n
    Store(settings.data).close()
    assert stale_rows(settings) == 0 and user_version(settings) == (SCHEMA_VERSION, None)
