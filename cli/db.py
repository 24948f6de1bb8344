"""`pactkb db upgrade|status`: the shared PostgreSQL store's schema (PACTKB_DATABASE_URL)."""

from __future__ import annotations

from typing import Annotated

import typer

from pactkb.cli.common import Command, Group, JsonOpt, emit_json, fail, make_settings, setting

db_app = typer.Typer(
    help="The shared PostgreSQL store's schema (PACTKB_DATABASE_URL).", no_args_is_help=True, cls=Group
)
UrlOpt = Annotated[str | None, setting("database_url", "--database-url")]


def _url(database_url: str | None) -> str:
    """The PostgreSQL URL from the flag or PACTKB_DATABASE_URL (exit 2 without one)."""
    from pactkb.pg import is_postgres

    url = make_settings(database_url=database_url).database_url
    if not is_postgres(url):
        fail("no PostgreSQL database: set PACTKB_DATABASE_URL=postgresql://... or pass --database-url", code=2)
    return str(url)


@db_app.command(cls=Command)
def upgrade(database_url: UrlOpt = None, json_out: JsonOpt = False) -> None:
    """Create or upgrade the shared store's tables to this pactkb's schema (idempotent)."""
    from pactkb.migrations import upgrade as run
    from pactkb.pg import DatabaseUnavailable, redact

    url = _url(database_url)
    try:
        before, after = run(url)
    except DatabaseUnavailable as exc:
        fail(str(exc))
        return
    if json_out:
        emit_json({"database": redact(url), "from": before, "to": after})
    elif before == after:
        typer.echo(f"{redact(url)}: schema {after}, up to date")
    else:
        typer.echo(f"{redact(url)}: schema upgraded from {before} to {after}")


@db_app.command(cls=Command)
def status(database_url: UrlOpt = None, json_out: JsonOpt = False) -> None:
    """The shared store's schema version and this pactkb's (exit 1 when an upgrade is due)."""
    from pactkb.migrations import LATEST, current_version
    from pactkb.pg import DatabaseUnavailable, connect, redact

    url = _url(database_url)
    try:
        con = connect(url)
    except DatabaseUnavailable as exc:
        fail(str(exc))
        return
    version = current_version(con)
    con.close()
    if json_out:
        emit_json({"database": redact(url), "version": version, "latest": LATEST})
    else:
        typer.echo(f"{redact(url)}: schema {version}, this pactkb needs {LATEST}")
    if version != LATEST:
        raise typer.Exit(1)
