"""The shared store: PostgreSQL holds what every replica must see; each replica follows it into a local index.

`SharedStore` is the knowledge base's tables in PostgreSQL (`pactkb db upgrade` creates them): documents, pages,
chunks with their vectors, path mappings, originals (bytea) and the change log (`changes`: one row per document
added, updated, deleted or relabelled, in commit order). It runs the SQLite store's own queries through pactkb.pg;
`PgTx` overrides only what differs (ids returned by INSERT, no FTS rows, change-log rows).

`ReplicaStore` is what a server or command uses when `PACTKB_DATABASE_URL` is set: writes go to PostgreSQL, reads
about one document (and every access decision) are answered by PostgreSQL, and search runs on a local SQLite copy in
the replica's own `--data` directory (FTS5 rows and filter metadata beside the chunks, so the lexical index and the
filters keep their joins), from which the FAISS index follows as on one machine. `catch_up` brings the local copy to
the change log's head; a replica can start empty.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import Timeout

from pactkb.atomic import temp_beside
from pactkb.index.filters import Filters
from pactkb.index.store import DOC_COLUMNS, DocumentRecord, NewChunk, Store, StoreError, Tx
from pactkb.migrations import LATEST, current_version
from pactkb.pg import DatabaseUnavailable, Listener, PgConnection, connect, redact

log = logging.getLogger(__name__)
CHANGE_LOCK = 2020_0002  # pg_advisory_xact_lock key: writers append to the change log one at a time (commit order)
INGEST_LOCK = 2020_0003  # pg_try_advisory_lock key: one folder ingestion at a time across every machine
LOCK_POLL_SECONDS = 0.5  # how often a waiting ingestion asks for the cluster-wide writer lock again
CHANGES_CHANNEL = "pactkb_changes"  # NOTIFY channel: a transaction that appended to the change log has committed
STOP_CHECK_SECONDS = 1.0  # a follower waiting for a notification looks at its stop event this often
CURSOR_KEY = "shared_seq"  # local meta: the last change-log entry this replica has applied
STORE_ID_KEY = "store_id"  # meta: which shared store a replica's local copy follows
COPIED_FIELDS = tuple(c.strip() for c in DOC_COLUMNS.split(",") if c.strip() not in ("id", "updated_at"))
EDITABLE = tuple(f for f in COPIED_FIELDS if f not in ("sha256", "created_at", "family", "edition_rank"))


class PgTx(Tx):
    """Write operations inside one PostgreSQL transaction; each document change appends to the change log."""

    def __init__(self, con: PgConnection, data_dir: Path) -> None:
        """Wrap the transaction's connection; originals are read from `data_dir`."""
        self.con = con  # type: ignore[assignment]
        self.data_dir = data_dir

    def log_change(self, doc_id: str, op: str) -> None:
        """Append to the change log (serialised, so sequence order is commit order)."""
        self.con.execute("SELECT pg_advisory_xact_lock(?)", (CHANGE_LOCK,))
        self.con.execute("INSERT INTO changes (doc_id, op, at) VALUES (?, ?, extract(epoch FROM now()))", (doc_id, op))
        self.con.execute(f"NOTIFY {CHANGES_CHANNEL}")  # delivered at commit, once per transaction

    def bump_docs_version(self) -> None:
        """Nothing: cache keys follow each replica's local copy, which counts its own changes."""

    def insert_document(self, rec: dict[str, Any]) -> None:
        """Insert a documents row and its original's bytes (once per content), and log the addition."""
        super().insert_document(rec)
        stored = rec.get("stored_path")
        if stored and self.con.execute("SELECT 1 FROM originals WHERE path=?", (stored,)).fetchone() is None:
            self.con.execute(
                "INSERT INTO originals (path, bytes) VALUES (?, ?)", (stored, (self.data_dir / stored).read_bytes())
            )
        self.log_change(rec["id"], "add")

    def update_document(self, doc_id: str, fields: dict[str, Any]) -> None:
        """Update metadata columns and log it (a sensitivity change as such)."""
        if not fields:
            return
        super().update_document(doc_id, fields)
        self.log_change(doc_id, "sensitivity" if "sensitivity" in fields else "update")

    def reindex_text(self, doc_id: str) -> None:
        """Nothing: the full-text index lives in each replica, which re-indexes when it applies the change."""

    def retitle_text(self, doc_id: str, title: str) -> None:
        """Nothing: as for reindex_text."""

    def index_chunks(self, ids: list[int], title: str, chunks: list[NewChunk], language: str | None) -> None:
        """Nothing: each replica indexes the chunks' text (and its vectors) when it applies the change."""

    def delete_chunks_of(self, doc_id: str) -> int:
        """Remove a document's chunks."""
        return self.con.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,)).rowcount

    def delete_document(self, doc_id: str) -> int:
        """Remove a document (and its original when no other document keeps it) and log the deletion."""
        row = self.con.execute("SELECT stored_path FROM documents WHERE id=?", (doc_id,)).fetchone()
        n = super().delete_document(doc_id)
        if row is not None and row[0]:
            self.con.execute(
                "DELETE FROM originals WHERE path=? AND NOT EXISTS (SELECT 1 FROM documents WHERE stored_path=?)",
                (row[0], row[0]),
            )
        self.log_change(doc_id, "delete")
        return n

    def set_meta(self, values: dict[str, str]) -> None:
        """Write meta keys."""
        self.con.executemany(
            "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            list(values.items()),
        )

    def prepare_reembed(self, target: dict[str, Any]) -> dict[str, Any] | None:
        """Refused: re-embedding works on the embedded store only, for now."""
        raise StoreError("re-embedding a shared PostgreSQL store is not supported yet; re-ingest into a new database")


class AdvisoryLock:
    """A cluster-wide writer lock: a session-level PostgreSQL advisory lock on a connection of its own, released by its
    holder or, when the holder crashes or is killed, by the server as the holder's session ends."""

    def __init__(self, url: str, key: int) -> None:
        """The lock `key` on the server of `url` (not taken yet)."""
        self.url, self.key = url, key
        self.name = f"the shared store at {redact(url)}"
        self._con: PgConnection | None = None

    def acquire(self, timeout: float = -1) -> None:
        """Take the lock, asking again until `timeout` seconds have passed (-1: until it is free); filelock.Timeout
        when it stays held."""
        if self._con is not None:
            raise RuntimeError(f"{self.name}: writer lock already held by this process")
        con = connect(self.url)
        deadline = None if timeout < 0 else time.monotonic() + timeout
        while not con.execute("SELECT pg_try_advisory_lock(?)", (self.key,)).fetchone()[0]:  # type: ignore[index]
            if deadline is not None and time.monotonic() >= deadline:
                con.close()
                raise Timeout(self.name)
            time.sleep(LOCK_POLL_SECONDS)
        self._con = con

    def release(self) -> None:
        """Give the lock back (and close its connection)."""
        con, self._con = self._con, None
        if con is not None:
            try:
                con.execute("SELECT pg_advisory_unlock(?)", (self.key,))
            finally:
                con.close()


class SharedStore(Store):
    """The knowledge base's tables in PostgreSQL, queried with the SQLite store's SQL through pactkb.pg."""

    def __init__(self, url: str, data_dir: Path | str) -> None:
        """Connect and check the schema version (`pactkb db upgrade` creates and upgrades it)."""
        self.url = url
        self.data_dir = Path(data_dir)
        self.path = Path(redact(url))
        self._local = threading.local()
        version = current_version(self.conn())
        if version != LATEST:
            raise StoreError(
                f"the shared store at {redact(url)} has schema version {version}, this pactkb needs {LATEST}: "
                + ("run 'pactkb db upgrade'" if version < LATEST else "upgrade pactkb")
            )

    def conn(self) -> PgConnection:  # type: ignore[override]
        """This thread's connection."""
        con = getattr(self._local, "con", None)
        if con is None:
            con = self._local.con = connect(self.url)
        return con

    def writer(self, con: Any) -> Tx:
        """PostgreSQL's write operations (BEGIN IMMEDIATE reads as BEGIN there)."""
        return PgTx(con, self.data_dir)

    def store_id(self) -> str:
        """The shared store's identity (made by its first migration)."""
        return str(self.get_meta(STORE_ID_KEY))

    def log_seq(self, con: Any = None) -> int:
        """The change log's head (0 when empty)."""
        return int(self.conn().execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0])  # type: ignore[index]

    def changed_since(self, seq: int, head: int) -> list[str]:
        """Documents with a change after `seq` up to `head`, in order of their last change."""
        rows = self.conn().execute(
            "SELECT doc_id FROM changes WHERE seq > ? AND seq <= ? GROUP BY doc_id ORDER BY max(seq)", (seq, head)
        )
        return [r[0] for r in rows]

    def original_bytes(self, stored_path: str) -> bytes | None:
        """An original's bytes."""
        row = self.conn().execute("SELECT bytes FROM originals WHERE path=?", (stored_path,)).fetchone()
        return bytes(row[0]) if row else None

    def consistency_problems(self, dim: int | None) -> list[str]:
        """What the database says is wrong: page spans outside documents, vectors of another dimension, missing
        originals."""
        con = self.conn()
        problems = []
        bad_pages = con.execute(
            "SELECT count(*) FROM chunks c JOIN documents d ON d.id=c.doc_id WHERE c.page_end > d.pages"
        ).fetchone()[0]  # type: ignore[index]
        if bad_pages:
            problems.append(f"{bad_pages} chunk(s) with a page span outside their document")
        if dim:
            bad = con.execute("SELECT count(*) FROM chunks WHERE length(vector) != ?", (4 * dim,)).fetchone()[0]  # type: ignore[index]
            if bad:
                problems.append(f"{bad} chunk vector(s) with the wrong dimension")
        missing = con.execute(
            "SELECT count(*) FROM documents d WHERE stored_path IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM originals o WHERE o.path = d.stored_path)"
        ).fetchone()[0]  # type: ignore[index]
        if missing:
            problems.append(f"{missing} original(s) missing from the shared store")
        return problems


def wait_for_change(listener: Listener, interval: float, stop: threading.Event) -> None:
    """Return when a change is announced, `interval` seconds have passed or `stop` is set (a lost connection to the
    server: polling alone until it answers again)."""
    deadline = time.monotonic() + interval
    while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
        try:
            if listener.wait(min(left, STOP_CHECK_SECONDS)):
                return
        except DatabaseUnavailable as exc:
            log.warning("change notifications unavailable (%s); polling every %s s", exc, interval)
            stop.wait(left)
            return


class ReplicaStore(Store):
    """A replica: writes and per-document reads against the shared store, search on a local copy that follows it."""

    def __init__(self, data_dir: Path | str, url: str, catch_up: bool = True) -> None:
        """Open the local copy in `data_dir` and the shared store (and bring the copy up to date unless `catch_up` is
        off: a server does that in the background); refuse a local copy of another shared store."""
        super().__init__(data_dir)
        self.shared = SharedStore(url, self.data_dir)
        self._follow = threading.Lock()
        sid, local_sid = self.shared.store_id(), Store.get_meta(self, STORE_ID_KEY)
        if local_sid is None:
            with self.local_transaction() as tx:
                tx.set_meta({STORE_ID_KEY: sid})
        elif local_sid != sid:
            raise StoreError(
                f"{self.data_dir} holds the index of another shared store; give this replica an empty --data directory"
            )
        if catch_up:
            self.catch_up()

    def cluster_writer_lock(self) -> AdvisoryLock:
        """The writer lock every machine ingesting into the shared store takes (a PostgreSQL advisory lock)."""
        return AdvisoryLock(self.shared.url, INGEST_LOCK)

    # -- following the change log ------------------------------------------------------------------
    def cursor(self) -> int:
        """The last change-log entry applied to the local copy."""
        return int(Store.get_meta(self, CURSOR_KEY) or 0)

    def lag(self) -> int:
        """Change-log entries the local copy has not applied yet."""
        return max(0, self.shared.log_seq() - self.cursor())

    def catch_up(self) -> int:
        """Apply every change after the cursor to the local copy; returns how many documents were brought in step."""
        with self._follow:
            cursor, head = self.cursor(), self.shared.log_seq()
            if head == cursor:
                return 0
            if cursor == 0 or head < cursor:  # an empty copy, or a store restored from an older backup: reconcile all
                doc_ids = sorted(set(self.shared.document_ids()) | set(Store.document_ids(self)))
            else:
                doc_ids = self.shared.changed_since(cursor, head)
            for doc_id in doc_ids:
                self._apply(doc_id)
            with self.local_transaction() as tx:
                tx.set_meta({CURSOR_KEY: str(head)})
            return len(doc_ids)

    def follow(self, interval: float, stop: threading.Event, on_change: Callable[[int], None] | None = None) -> None:
        """Catch up whenever the shared store announces a committed change (LISTEN/NOTIFY), and at least every
        `interval` seconds (the fallback should a notification be lost), until stopped (a replica server's background
        thread); `on_change` hears the number of documents brought in step when there were any; a failed round is
        logged and retried."""
        listener = Listener(self.shared.url, CHANGES_CHANNEL)
        try:
            listener.listen()  # from now on; the first round then catches up with what came before
        except DatabaseUnavailable as exc:
            log.warning("change notifications unavailable (%s); polling every %s s", exc, interval)
        try:
            while not stop.is_set():
                try:
                    changed = self.catch_up()
                    if changed and on_change is not None:
                        on_change(changed)
                except Exception:
                    log.exception("following the shared store's change log failed; retrying")
                wait_for_change(listener, interval, stop)
        finally:
            listener.close()

    def replication(self) -> dict[str, Any]:
        """Where the local copy stands: the change-log entry applied, the head, and whether it has caught up."""
        cursor, head = self.cursor(), self.shared.log_seq()
        return {"applied": cursor, "head": head, "lag": max(0, head - cursor), "caught_up": cursor >= head}

    def _apply(self, doc_id: str) -> None:
        """Bring one document of the local copy to its state in the shared store (idempotent)."""
        rec = self.shared.document(doc_id)
        chunks = self.shared.stored_chunks(doc_id) if rec is not None else []
        with self.local_transaction() as tx:  # local state read inside: server workers may apply the same change
            local = Store.document(self, doc_id, tx.con)
            if rec is None:
                if local is not None:
                    tx.delete_document(doc_id)
                return
            same = local is not None and local.sha256 == rec.sha256
            have = [r[0] for r in tx.execute("SELECT id FROM chunks WHERE doc_id=? ORDER BY id", (doc_id,))]
            if same and [cid for cid, _ in chunks] == have:
                changed = {f: getattr(rec, f) for f in EDITABLE if getattr(rec, f) != getattr(local, f)}
                tx.update_document(doc_id, changed)
                return
            if local is not None:
                tx.delete_document(doc_id)
            tx.insert_document({"id": doc_id, **{f: getattr(rec, f) for f in COPIED_FIELDS}})
            tx.insert_pages(doc_id, [tuple(p) for p in self.shared.pages(doc_id)])
            tx.insert_chunks(doc_id, rec.title, [c for _, c in chunks], rec.language, [cid for cid, _ in chunks])

    # -- writes: to the shared store, then into the local copy ---------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """A write transaction on the shared store; the local copy catches up once it has committed."""
        with self.shared.transaction() as tx:
            yield tx
        self.catch_up()

    # -- what the shared store answers (one document, access, metadata) ------------------------------
    def get_meta(self, key: str) -> str | None:
        """A value from the shared meta table (the encoder record, counters)."""
        return self.shared.get_meta(key)

    def encoder_record(self) -> dict[str, Any]:
        """The encoder recorded in the shared store."""
        return self.shared.encoder_record()

    def document(self, doc_id: str, con: Any = None) -> DocumentRecord | None:
        """One document as the shared store has it now."""
        return self.shared.document(doc_id)

    def document_by_sha(
        self, sha256: str, visible: tuple[str, ...] | None = None, origin: str | None = None
    ) -> DocumentRecord | None:
        """A document with this content hash, from the shared store."""
        return self.shared.document_by_sha(sha256, visible, origin)

    def file_entry(self, path: str) -> Any:
        """The shared files row for a path."""
        return self.shared.file_entry(path)

    def paths_of(self, doc_id: str) -> list[str]:
        """File paths that map to a document."""
        return self.shared.paths_of(doc_id)

    def all_files(self) -> list[Any]:
        """Every path → document mapping."""
        return self.shared.all_files()

    def pages(self, doc_id: str) -> list[Any]:
        """A document's pages."""
        return self.shared.pages(doc_id)

    def doc_chunks(self, doc_id: str) -> list[Any]:
        """A document's chunks in order."""
        return self.shared.doc_chunks(doc_id)

    def chunk_of_document(self, chunk_id: int, doc_id: str) -> Any:
        """A chunk's text and page span when it belongs to the document."""
        return self.shared.chunk_of_document(chunk_id, doc_id)

    def uses_original(self, stored_path: str) -> bool:
        """Whether any document keeps its original at this stored path."""
        return self.shared.uses_original(stored_path)

    def list_documents(
        self, filters: Filters, title: str | None = None, sort: str = "title", limit: int = 20, offset: int = 0
    ) -> tuple[int, list[DocumentRecord]]:
        """One page of the documents the filters admit, from the shared store."""
        return self.shared.list_documents(filters, title, sort, limit, offset)

    def counts(self) -> dict[str, int]:
        """Documents, pages, chunks and OCR pages in the shared store."""
        return self.shared.counts()

    def vectors_for_hashes(self, hashes: Iterable[str]) -> dict[str, bytes]:
        """Stored vectors of known texts, from the shared store."""
        return self.shared.vectors_for_hashes(hashes)

    def original(self, stored_path: str) -> Path | None:
        """The original's file, fetched from the shared store into this replica's cache the first time."""
        local = super().original(stored_path)
        if local is not None:
            return local
        data = self.shared.original_bytes(stored_path)
        if data is None:
            return None
        target = self.data_dir / stored_path
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_beside(target)
        tmp.write_bytes(data)
        tmp.replace(target)
        return target

    # -- search-side reads on the local copy, re-checked against the shared store ---------------------
    def hit_rows(self, ids: list[int], filters: Filters, con: Any = None, text: bool = True) -> dict[int, Any]:
        """Hit rows from the local copy whose documents the shared store still admits now."""
        rows = super().hit_rows(ids, filters, con, text)
        admitted = self.shared.admitted({r["doc_id"] for r in rows.values()}, filters)
        return {cid: r for cid, r in rows.items() if r["doc_id"] in admitted}

    def visible_chunk(self, chunk_id: int, filters: Filters, con: Any = None) -> Any:
        """One chunk from the local copy, if the shared store still admits its document."""
        row = super().visible_chunk(chunk_id, filters, con)
        return row if row is not None and self.shared.admitted([row["doc_id"]], filters) else None

    def consistency_problems(self, dim: int | None) -> list[str]:
        """Problems of the shared store and of this replica's local copy."""
        local = [p for p in super().consistency_problems(dim) if not p.startswith("original file missing")]
        return self.shared.consistency_problems(dim) + [f"local copy: {p}" for p in local]  # originals: fetched lazily

    def close(self) -> None:
        """Close this thread's connections."""
        self.shared.close()
        super().close()
