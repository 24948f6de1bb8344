"""`pactkb audit` (export the audit log) and how commands write to it (as `cli:<user>`)."""

from __future__ import annotations

import os
import pwd
from typing import TYPE_CHECKING, Annotated

import typer

from pactkb.cli.common import DataOpt, JsonOpt, emit_json, fail, make_settings
from pactkb.settings import Settings

if TYPE_CHECKING:
    from pactkb.api.audit import AuditEvent


def cli_actor() -> str:
    """Who runs the command, for the audit log: the operating-system account the process runs as (read from its
    user id, not from $USER, which is unset under cron and in containers and which anyone can set), and, for root,
    the account that ran sudo ($SUDO_USER: what sudo says; for anyone else it would be an unchecked claim)."""
    uid = os.getuid()
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:  # a user id with no account (a container run with --user 1234)
        name = f"uid-{uid}"
    sudo = os.environ.get("SUDO_USER") if uid == 0 else None  # only root can have come through sudo
    return f"cli:{name}" + (f" (sudo from {sudo})" if sudo and sudo != name else "")


def record(settings: Settings, events: list[AuditEvent]) -> None:
    """Write audit events from the command line."""
    from pactkb.api.audit import AuditLog

    log = AuditLog(settings.data, settings.database_url)
    for event in events:
        log.record(event)
    log.close()


def _since(value: str | None) -> float | None:
    """Epoch seconds from an ISO date/time or a duration like 24h, 7d, 30m."""
    import datetime as dt
    import re as re_mod
    import time as time_mod

    if not value:
        return None
    m = re_mod.fullmatch(r"(\d+)([smhd])", value.strip())
    if m:
        return time_mod.time() - int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    try:
        return dt.datetime.fromisoformat(value).timestamp()
    except ValueError:
        fail(f"--since {value!r}: use an ISO date (2026-11-01 or 2026-11-01T08:00) or a duration (24h, 7d)", code=2)
        return None


def audit(
    data: DataOpt = None,
    since: Annotated[str | None, typer.Option(help="ISO date/time or duration (24h, 7d).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Export the audit log (searches, views, downloads, uploads, edits, deletes, key changes)."""
    import datetime as dt

    from pactkb.api.audit import export, printable

    settings = make_settings(data=data)
    rows = export(settings.data, _since(since), settings.database_url)
    if json_out:
        for r in rows:
            emit_json(r)
        return
    for r in rows:
        when = dt.datetime.fromtimestamp(r["time"]).isoformat(timespec="seconds")
        docs = ",".join(r["document_ids"][:5]) + ("…" if len(r["document_ids"]) > 5 else "")
        q = f" q={r['query']!r}" if r["query"] else ""
        target = f" target={r['target']}" if r.get("target") else ""
        via = r.get("via") or "-"
        line = f"{when} {r['actor']:16} {via:9} {r['action']:14} {r['status']} {r['route']}{target}{q} {docs}"
        typer.echo(printable(line))
