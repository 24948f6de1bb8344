"""One way to open the project's SQLite files: WAL, a long busy timeout, autocommit unless BEGIN."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def sql_in(column: str, values: tuple[str, ...]) -> str:
    """A CHECK constraint's condition that `column` holds one of a vocabulary's values (written from the one tuple)."""
    quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return f"{column} IN ({quoted})"


def connect(path: Path, foreign_keys: bool = False) -> sqlite3.Connection:
    """A connection usable from several threads (callers serialise writes) and processes (WAL)."""
    con = sqlite3.connect(path, timeout=60.0, isolation_level=None, check_same_thread=False)
    con.row_factory = sqlite3.Row
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("PRAGMA busy_timeout=60000")
    if foreign_keys:
        con.execute("PRAGMA foreign_keys=ON")
    return con
