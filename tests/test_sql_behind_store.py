"""SQL lives behind the store: no package module outside the store modules writes SQL against the knowledge base's
tables."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pactkb.index.store import REEMBED_ASIDE, SCHEMA

ROOT = Path(__file__).resolve().parents[1]
# the repository: the SQLite store, the shared PostgreSQL store running its queries, and the PostgreSQL schema
STORE_MODULES = {ROOT / "index" / "store.py", ROOT / "index" / "shared_store.py", ROOT / "pactkb" / "migrations.py"}
TABLES = sorted(
    {*re.findall(r"CREATE (?:VIRTUAL )?TABLE IF NOT EXISTS (\w+)", SCHEMA), REEMBED_ASIDE}, key=len, reverse=True
)
# a statement's clause naming a table: FROM chunks, JOIN documents d, INTO meta, UPDATE chunks_fts, TABLE files...
SQL_ON_TABLE = re.compile(
    rf"\b(?:FROM|JOIN|INTO|UPDATE|TABLE(?: IF (?:NOT )?EXISTS)?)\s+(?:main\.)?({'|'.join(TABLES)})\b"
)


def package_sources() -> list[Path]:
    """Every Python file of the installed packages (pyproject's package-dir folders)."""
    folders = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
            "package-dir"
        ].values()
    )
    return sorted({f for folder in folders for f in (ROOT / folder).rglob("*.py")})


def sql_lines(path: Path) -> list[str]:
    """'file:line: text' of each line that writes SQL against a knowledge-base table."""
    return [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if SQL_ON_TABLE.search(line)
    ]


def test_the_pattern_finds_sql_on_every_table_and_not_prose() -> None:
    """The check is not vacuous: it knows the tables, catches the usual statement shapes and leaves prose alone."""
    assert {"chunks", "chunks_fts", "documents", "files", "pages", "meta", "index_log"} <= set(TABLES)
    for sql in (
        '"SELECT c.id FROM chunks c JOIN documents d ON d.id = c.doc_id"',
        "INSERT INTO meta(key) VALUES (?)",
        "UPDATE chunks_fts SET title=?",
        "DELETE FROM files WHERE path=?",
        f"DROP TABLE {REEMBED_ASIDE}",
    ):
        assert SQL_ON_TABLE.search(sql), sql
    for prose in ("passages from documents the caller may see", "chunks from the store", "Filters.from_mapping"):
        assert not SQL_ON_TABLE.search(prose), prose


def test_no_module_outside_the_store_writes_sql_against_its_tables() -> None:
    sources = package_sources()
    assert ROOT / "index" / "hybrid.py" in sources and ROOT / "api" / "routes" / "documents.py" in sources
    offending = [hit for path in sources if path not in STORE_MODULES for hit in sql_lines(path)]
    assert offending == [], "SQL outside index/store.py; add a store method instead:\n" + "\n".join(offending)


def test_filters_know_nothing_of_sql() -> None:
    """Filters are a value; the store turns them into its WHERE clause (no join alias leaks upward)."""
    from pactkb.index.filters import Filters

    assert not hasattr(Filters, "sql")
