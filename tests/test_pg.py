"""pactkb.pg: SQLite-dialect SQL on PostgreSQL, rows like sqlite3.Row, constraint errors as sqlite3's, reconnection
between transactions (never inside one)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from pactkb.pg import DatabaseUnavailable, connect, is_postgres, redact, translate


def test_sqlite_spellings_are_translated() -> None:
    assert translate("SELECT * FROM t WHERE a=? AND b LIKE '%x'") == "SELECT * FROM t WHERE a=%s AND b LIKE '%%x'"
    assert translate("EXISTS (SELECT 1 FROM json_each(d.areas) WHERE value IN (?))") == (
        "EXISTS (SELECT 1 FROM jsonb_array_elements_text(d.areas::jsonb) WHERE value IN (%s))"
    )
    assert translate("ORDER BY d.title COLLATE NOCASE, d.id") == "ORDER BY lower(d.title), d.id"
    assert translate("BEGIN IMMEDIATE") == "BEGIN"


def test_urls() -> None:
    assert is_postgres("postgresql://u@h/db") and is_postgres("postgres://h/db")
    assert not is_postgres(None) and not is_postgres("sqlite:///x")
    assert redact("postgresql://user:secret@host:5432/db") == "postgresql://user:***@host:5432/db"


def test_an_unreachable_server_names_itself_without_the_password() -> None:
    with pytest.raises(DatabaseUnavailable, match=r"postgresql://me:\*\*\*@127.0.0.1:1/x"):
        connect("postgresql://me:secret@127.0.0.1:1/x")


@pytest.mark.postgres
def test_rows_read_like_sqlite_rows_and_constraints_fail_like_sqlite(pg_url: str) -> None:
    con = connect(pg_url)
    con.execute("CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER)")
    con.executemany("INSERT INTO t (k, n) VALUES (?, ?)", [("a", 1), ("b", 2)])
    row = con.execute("SELECT k, n FROM t WHERE k = ?", ("b",)).fetchone()
    assert (row[0], row["n"], dict(row)) == ("b", 2, {"k": "b", "n": 2})
    assert dict(con.execute("SELECT k, n FROM t ORDER BY k")) == {"a": 1, "b": 2}
    with pytest.raises(sqlite3.IntegrityError):
        con.execute("INSERT INTO t (k, n) VALUES ('a', 3)")


@pytest.mark.postgres
def test_a_dropped_connection_is_reopened_between_transactions_but_not_inside_one(pg_url: str) -> None:
    con = connect(pg_url)
    con.execute("CREATE TABLE t (n INTEGER)")
    admin = connect(pg_url)

    def drop() -> None:
        admin.execute("SELECT pg_terminate_backend(?)", (con.raw.info.backend_pid,))

    drop()
    with pytest.raises(psycopg.OperationalError):
        con.execute("SELECT 1")  # the statement that finds the connection gone fails ...
    assert con.execute("SELECT count(*) FROM t").fetchone()[0] == 0  # ... the next one reconnects
    con.execute("BEGIN")
    con.execute("INSERT INTO t VALUES (1)")
    drop()
    with pytest.raises(psycopg.OperationalError):
        con.execute("INSERT INTO t VALUES (2)")
    with pytest.raises(psycopg.OperationalError):
        con.execute("INSERT INTO t VALUES (3)")  # inside the lost transaction: no silent autocommit
    con.execute("ROLLBACK")
    assert con.execute("SELECT count(*) FROM t").fetchone()[0] == 0


def test_the_embedded_default_never_imports_psycopg(tmp_path) -> None:
    """Without PACTKB_DATABASE_URL, opening a knowledge base and building the app load no PostgreSQL driver."""
    code = (
        "import sys; from pactkb.api.app import create_app; from pactkb.settings import Settings; "
        f"create_app(Settings(data={str(tmp_path / 'data')!r}, model='fake:64'), load_in_background=False); "
        "print(sorted(m for m in sys.modules if m.startswith('psycopg')))"
    )
    env = {k: v for k, v in os.environ.items() if k != "PACTKB_DATABASE_URL"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "[]"


def test_a_configured_server_that_does_not_answer_fails_the_postgres_tests_never_skips_them() -> None:
    env = {**os.environ, "PACTKB_TEST_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/x"}
    target = "tests/test_pg.py::test_rows_read_like_sqlite_rows_and_constraints_fail_like_sqlite"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", target],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert run.returncode != 0
    assert "PACTKB_TEST_DATABASE_URL is set but the server does not answer" in run.stdout
    assert "skipped" not in run.stdout.splitlines()[-1]
