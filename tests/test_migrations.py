"""`pactkb db upgrade`: versioned migrations of the shared PostgreSQL store, from empty and from the last version."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pactkb.index.shared_store import SharedStore
from pactkb.index.store import StoreError
from pactkb.migrations import LATEST, MIGRATIONS, current_version, upgrade
from pactkb.pg import connect

pytestmark = pytest.mark.postgres


def tables(url: str) -> set[str]:
    """The tables of the public schema."""
    rows = connect(url).execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {r[0] for r in rows}


def test_an_empty_database_is_brought_to_the_latest_schema_once(pg_url: str) -> None:
    assert upgrade(pg_url) == (0, LATEST)
    assert {"documents", "chunks", "changes", "originals", "api_keys", "jobs", "audit"} <= tables(pg_url)
    assert upgrade(pg_url) == (LATEST, LATEST)  # idempotent: nothing applied twice
    applied = connect(pg_url).execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
    assert [r[0] for r in applied] == [m.version for m in MIGRATIONS]


def test_the_previous_version_upgrades_keeping_its_data(pg_url: str) -> None:
    previous = MIGRATIONS[-2].version
    assert upgrade(pg_url, target=previous) == (0, previous)
    con = connect(pg_url)
    con.execute(
        "INSERT INTO documents (id, sha256, title, kind, source_name, size, pages, created_at, updated_at) "
        "VALUES ('d1', 'abc', 'Kept', 'txt', 'kept.txt', 1, 1, 0, 0)"
    )
    with pytest.raises(StoreError, match="pactkb db upgrade"):
        SharedStore(pg_url, "/nonexistent")  # an older schema is refused with the command that fixes it
    assert upgrade(pg_url) == (previous, LATEST)
    assert current_version(con) == LATEST
    assert SharedStore(pg_url, "/nonexistent").document("d1").title == "Kept"


def test_the_command_upgrades_and_reports(pg_url: str) -> None:
    run = [sys.executable, "-m", "pactkb.cli.main", "db"]
    status = subprocess.run([*run, "status", "--database-url", pg_url], capture_output=True, text=True)
    assert status.returncode == 1 and f"schema 0, this pactkb needs {LATEST}" in status.stdout
    done = subprocess.run([*run, "upgrade", "--database-url", pg_url, "--json"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f'"from": 0, "to": {LATEST}' in done.stdout
    again = subprocess.run([*run, "upgrade", "--database-url", pg_url], capture_output=True, text=True)
    assert "up to date" in again.stdout
    assert subprocess.run([*run, "status", "--database-url", pg_url], capture_output=True).returncode == 0


def test_an_unreachable_server_is_a_clear_error() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pactkb.cli.main",
            "db",
            "upgrade",
            "--database-url",
            "postgresql://nobody@127.0.0.1:1/x",
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and "cannot connect to PostgreSQL at postgresql://nobody@127.0.0.1:1/x" in done.stderr
