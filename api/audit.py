"""Append-only audit log in its own SQLite file, written by a background thread (never on the request path).

Every row says who (`actor`: an API key's name, `jwt:<issuer>#<subject>` for a token, `cli:<user>` for the command
line, `anonymous`; for refused credentials the identity they claimed), how they proved it (`via`: key, jwt, link,
cli, anonymous), what they asked for (`route`, `target`: the id in the path, `query`, `filters`) and the outcome
(`status`, `detail`)."""

from __future__ import annotations

import json
import queue
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pactkb import db, pg
from pactkb.pg import is_postgres

AUDIT_DB = "audit.sqlite3"
SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    method TEXT NOT NULL,
    route TEXT NOT NULL,
    status INTEGER NOT NULL,
    query TEXT,
    filters TEXT,
    document_ids TEXT,
    detail TEXT,
    target TEXT,
    via TEXT
);
CREATE INDEX IF NOT EXISTS audit_time ON audit(time);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""


@dataclass
class AuditEvent:
    """One audited action."""

    actor: str
    action: str
    method: str
    route: str
    status: int
    query: str | None = None
    filters: dict[str, Any] | None = None
    document_ids: list[str] = field(default_factory=list)
    detail: str | None = None
    target: str | None = None
    via: str | None = None
    time: float = field(default_factory=time.time)


def connect(data: Path, url: str | None = None) -> sqlite3.Connection:
    """The audit database (created with its append-only triggers): the shared PostgreSQL database when `url` names one
    (its table, trigger and revoked rights come from `pactkb db upgrade`), else audit.sqlite3 in the data directory."""
    if is_postgres(url):
        return pg.connect(str(url))  # type: ignore[return-value] # the sqlite3 calling conventions (pactkb.pg)
    con = db.connect(data / AUDIT_DB)
    con.executescript(SCHEMA)
    have = {r[1] for r in con.execute("PRAGMA table_info(audit)")}
    for column in ("target", "via"):  # logs written before these columns existed
        if column not in have:
            con.execute(f"ALTER TABLE audit ADD COLUMN {column} TEXT")
    return con


class AuditLog:
    """Queues events and writes them in batches from one background thread."""

    def __init__(self, data: Path, url: str | None = None) -> None:
        """Open the log (in the data directory, or the shared database of `url`) and start the writer thread."""
        self.data = data
        self.url = url
        connect(data, url).close()
        self._queue: queue.Queue[AuditEvent | None] = queue.Queue()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="pactkb-audit", daemon=True)
        self._thread.start()

    def record(self, event: AuditEvent) -> None:
        """Queue an event (returns immediately); once the log is closed (a job still finishing while the server
        stops), write it at once instead, so no event is lost."""
        if self._closed:
            con = connect(self.data, self.url)
            try:
                write(con, [event])
            finally:
                con.close()
            return
        self._queue.put(event)

    def _run(self) -> None:
        """Writer loop: drain the queue in batches."""
        con = connect(self.data, self.url)
        stop = False
        while not stop:
            first = self._queue.get()
            batch = [first]
            while len(batch) < 500:
                try:
                    batch.append(self._queue.get(timeout=0.05))
                except queue.Empty:
                    break
            if None in batch:
                stop = True
            events = [e for e in batch if e is not None]
            if events:
                write(con, events)
            for _ in batch:
                self._queue.task_done()
        con.close()

    def flush(self) -> None:
        """Wait until every queued event is written."""
        self._queue.join()

    def close(self) -> None:
        """Flush and stop the writer; later events are written one by one (record)."""
        self._closed = True
        self._queue.put(None)
        self._thread.join(timeout=10)


def write(con: sqlite3.Connection, events: list[AuditEvent]) -> None:
    """Insert audit events (the connection commits: autocommit, or pactkb.pg's)."""
    con.executemany(
        "INSERT INTO audit (time, actor, action, method, route, status, query, filters, document_ids, "
        "detail, target, via) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                e.time,
                e.actor,
                e.action,
                e.method,
                e.route,
                e.status,
                e.query,
                json.dumps(e.filters, ensure_ascii=False) if e.filters else None,
                json.dumps(e.document_ids) if e.document_ids else None,
                e.detail,
                e.target,
                e.via,
            )
            for e in events
        ],
    )


def export(data: Path, since: float | None = None, url: str | None = None) -> list[dict[str, Any]]:
    """Audit rows (oldest first), optionally only those at or after `since` (epoch seconds); from the shared database
    when `url` names one."""
    path = data / AUDIT_DB
    if is_postgres(url):
        con: Any = pg.connect(str(url))
    elif not path.exists():
        return []
    else:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        con.row_factory = sqlite3.Row
    try:
        rows = con.execute("SELECT * FROM audit WHERE time >= ? ORDER BY id", (since or 0,)).fetchall()
    finally:
        con.close()
    out = []
    for r in rows:
        d = dict(r)
        d["filters"] = json.loads(d["filters"]) if d["filters"] else None
        d["document_ids"] = json.loads(d["document_ids"]) if d["document_ids"] else []
        out.append(d)
    return out


def printable(text: object) -> str:
    """Text for a one-line-per-row display: control characters (newlines, escapes) shown as \\n, \\x1b... so no
    value can forge or hide a line."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in str(text))
