"""PostgreSQL through psycopg 3, behind the same small interface as a `sqlite3` connection.

The store's and the service tables' SQL is written once, in SQLite's dialect; `translate` rewrites the few SQLite
spellings they use into PostgreSQL's (placeholders, `json_each`, `COLLATE NOCASE`, `BEGIN IMMEDIATE`), and
`PgConnection` answers `execute` / `executemany` with rows that read like `sqlite3.Row` (by index, by name, `dict()`).
psycopg is an optional dependency (`pip install 'pactkb[postgres]'`), imported only when a PostgreSQL URL is used.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

URL_SCHEMES = ("postgresql://", "postgres://")
_JSON_EACH = re.compile(r"json_each\(([\w.]+)\)")
_NOCASE = re.compile(r"([\w.]+) COLLATE NOCASE")


class DatabaseUnavailable(RuntimeError):
    """The configured PostgreSQL server cannot be used (driver missing, unreachable, refused)."""


def is_postgres(url: str | None) -> bool:
    """Whether a database URL names PostgreSQL."""
    return bool(url) and str(url).startswith(URL_SCHEMES)


@lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    """SQLite-dialect SQL as PostgreSQL understands it."""
    out = sql.replace("%", "%%").replace("?", "%s")
    out = out.replace("BEGIN IMMEDIATE", "BEGIN")
    out = _JSON_EACH.sub(r"jsonb_array_elements_text(\1::jsonb)", out)
    return _NOCASE.sub(r"lower(\1)", out)


class Row(tuple):
    """A result row readable by position, by column name and as a mapping (like sqlite3.Row)."""

    _names: tuple[str, ...] = ()

    def __getitem__(self, key: Any) -> Any:
        """A value by position or by column name."""
        if isinstance(key, str):
            return tuple.__getitem__(self, self._names.index(key))
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        """Column names, in order."""
        return list(self._names)


def _row_factory(cursor: Any) -> Any:
    """A psycopg row factory making Row values named by the cursor's columns."""
    names = tuple(c.name for c in cursor.description or ())
    cls = type("PgRow", (Row,), {"_names": names})

    def make(values: Sequence[Any]) -> Row:
        return cls(values)

    return make


class PgCursor:
    """The result of one statement: fetchone, fetchall, iteration, rowcount."""

    def __init__(self, cursor: Any) -> None:
        """Wrap a psycopg cursor (None: a statement with no result)."""
        self._cursor = cursor
        self.rowcount = cursor.rowcount if cursor is not None else 0

    def fetchone(self) -> Row | None:
        """The next row, or None."""
        return self._cursor.fetchone() if self._cursor is not None and self._cursor.description else None

    def fetchall(self) -> list[Row]:
        """The remaining rows."""
        return self._cursor.fetchall() if self._cursor is not None and self._cursor.description else []

    def __iter__(self) -> Iterator[Row]:
        """Iterate over the remaining rows."""
        return iter(self.fetchall())


class PgConnection:
    """An autocommit psycopg connection with sqlite3's calling conventions (explicit BEGIN / COMMIT / ROLLBACK)."""

    def __init__(self, url: str) -> None:
        """Connect; DatabaseUnavailable names the server when it cannot."""
        self.url = url
        self.raw = self._connect()
        self._open = False  # inside a BEGIN the caller issued: a lost connection is then an error, not a reconnect

    def _connect(self) -> Any:
        """A new psycopg connection (autocommit: transactions are the caller's explicit BEGIN ... COMMIT)."""
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - the extra is installed with dev
            raise DatabaseUnavailable(
                "PACTKB_DATABASE_URL names PostgreSQL but psycopg is not installed: pip install 'pactkb[postgres]'"
            ) from exc
        try:
            return psycopg.connect(self.url, autocommit=True, row_factory=_row_factory, connect_timeout=10)
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(f"cannot connect to PostgreSQL at {redact(self.url)}: {exc}".strip()) from exc

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open on this connection."""
        from psycopg.pq import TransactionStatus

        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def _usable(self) -> Any:
        """The connection, opened again if the server dropped it between transactions (a restart, a failover)."""
        if (self.raw.closed or self.raw.broken) and not self._open:
            self.raw = self._connect()
        return self.raw

    def execute(self, sql: str, params: Iterable[Any] = ()) -> PgCursor:
        """Run one statement (SQLite dialect); a violated constraint raises sqlite3.IntegrityError, as with SQLite."""
        head = sql.lstrip()[:8].upper()
        if head.startswith("ROLLBACK") and (self.raw.closed or self.raw.broken):
            self._open = False  # the server ended the transaction with the connection
            return PgCursor(None)
        raw = self._usable()
        if head.startswith("BEGIN"):
            self._open = True
        elif head.startswith(("COMMIT", "ROLLBACK")):
            self._open = False
        with integrity_as_sqlite():
            return PgCursor(raw.execute(translate(sql), tuple(params)))

    def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> PgCursor:
        """Run one statement for each parameter row."""
        cur = self._usable().cursor()
        with integrity_as_sqlite():
            cur.executemany(translate(sql), [tuple(r) for r in rows])
        return PgCursor(cur)

    def executescript(self, script: str) -> None:
        """Run several statements (PostgreSQL dialect, no parameters)."""
        self._usable().execute(script)

    def close(self) -> None:
        """Close the connection."""
        self.raw.close()


class Listener:
    """LISTEN on one channel over a connection of its own (opened on first use, again after it was lost)."""

    def __init__(self, url: str, channel: str) -> None:
        """Listen to `channel` on the server of `url`."""
        self.url, self.channel = url, channel
        self._con: PgConnection | None = None

    def listen(self) -> PgConnection:
        """The listening connection (opened and subscribed if it is not); DatabaseUnavailable when the server cannot
        be reached (the connection is opened again next time)."""
        import psycopg

        if self._con is None:
            con = PgConnection(self.url)
            try:
                con.raw.execute(f"LISTEN {self.channel}")
            except psycopg.Error as exc:
                con.close()
                raise DatabaseUnavailable(f"cannot listen on {redact(self.url)}: {exc}".strip()) from exc
            self._con = con
        return self._con

    def wait(self, timeout: float) -> bool:
        """Whether a notification arrived within `timeout` seconds (DatabaseUnavailable as for listen)."""
        import psycopg

        con = self.listen()
        try:
            return any(True for _ in con.raw.notifies(timeout=timeout, stop_after=1))
        except psycopg.Error as exc:
            self.close()
            raise DatabaseUnavailable(f"listening on {redact(self.url)} failed: {exc}".strip()) from exc

    def close(self) -> None:
        """Stop listening."""
        con, self._con = self._con, None
        if con is not None:
            con.close()


@contextmanager
def integrity_as_sqlite() -> Iterator[None]:
    """Raise a violated constraint as sqlite3.IntegrityError, so callers handle both databases with one except."""
    import psycopg

    try:
        yield
    except psycopg.IntegrityError as exc:
        raise sqlite3.IntegrityError(str(exc)) from exc


@contextmanager
def scratch_database(server: str, prefix: str = "pactkb") -> Iterator[str]:
    """The URL of a new, empty database on the server of `server` (for tests and benchmarks), dropped afterwards."""
    import uuid
    from urllib.parse import urlsplit, urlunsplit

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = connect(server)
    admin.execute(f"CREATE DATABASE {name}")
    try:
        yield urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def redact(url: str) -> str:
    """A URL without its password, for messages."""
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


def connect(url: str) -> PgConnection:
    """A connection to the PostgreSQL server of a URL."""
    return PgConnection(url)
