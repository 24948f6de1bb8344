"""`pactkb keys create|list|revoke`: API keys in the data directory, audited as `cli:<user>`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pactkb.api.auth import ROLES
from pactkb.cli.audit import cli_actor, record
from pactkb.cli.common import Command, DataOpt, Group, JsonOpt, emit_json, fail, make_settings
from pactkb.settings import SENSITIVITY_LEVELS, Settings, one_of

keys_app = typer.Typer(help="Manage API keys (stored hashed in the data directory).", no_args_is_help=True, cls=Group)


def _keystore(data: Path | None):  # noqa: ANN202
    """The key store of a data directory."""
    from pactkb.api.auth import KeyStore

    settings = make_settings(data=data)
    return KeyStore(settings.data, settings.database_url), settings


def _audit_cli(settings: Settings, action: str, detail: str) -> None:
    """Record a key change made from the command line."""
    from pactkb.api.audit import AuditEvent

    record(
        settings,
        [
            AuditEvent(
                actor=cli_actor(),
                via="cli",
                action=action,
                method="CLI",
                route=f"pactkb keys {action.split('_')[-1]}",
                status=0,
                detail=detail,
            )
        ],
    )


@keys_app.command("create", cls=Command)
def keys_create(
    name: Annotated[str, typer.Option("--name", help="Who or what uses the key (shown in the audit log).")],
    role: Annotated[str, typer.Option(help=f"{one_of(ROLES)}.")] = ROLES[0],
    clearance: Annotated[str, typer.Option(help=f"{one_of(SENSITIVITY_LEVELS)}.")] = SENSITIVITY_LEVELS[0],
    data: DataOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Create a key; the secret is printed once."""
    from pactkb.api.auth import KeyError_

    if role not in ROLES:
        fail(f"--role must be one of {', '.join(ROLES)} (got {role!r})", code=2)
    if clearance not in SENSITIVITY_LEVELS:
        fail(f"--clearance must be one of {', '.join(SENSITIVITY_LEVELS)} (got {clearance!r})", code=2)
    store, settings = _keystore(data)
    try:
        key, info = store.create(name, role, clearance)
    except KeyError_ as exc:
        fail(str(exc), code=2)
        return
    _audit_cli(settings, "key_create", f"{name} role={role} clearance={clearance}")
    if json_out:
        emit_json({**info, "key": key})
    else:
        typer.echo(key)
        typer.echo(
            f"created key {name!r} ({role}, clearance {clearance}); store it now, it is not shown again", err=True
        )


@keys_app.command("list", cls=Command)
def keys_list(data: DataOpt = None, json_out: JsonOpt = False) -> None:
    """List keys (names, roles, clearances; never secrets)."""
    import datetime as dt

    store, _ = _keystore(data)
    rows = store.list()
    if json_out:
        emit_json(rows)
        return
    for r in rows:
        state = "revoked" if r["revoked_at"] else "active"
        when = dt.datetime.fromtimestamp(r["created_at"]).strftime("%Y-%m-%d %H:%M")
        typer.echo(f"{r['name']:24} {r['role']:12} {r['clearance']:13} pkb_{r['prefix']}_…  {state:8} created {when}")


@keys_app.command("revoke", cls=Command)
def keys_revoke(name: Annotated[str, typer.Argument(help="Key name (or prefix).")], data: DataOpt = None) -> None:
    """Revoke a key."""
    from pactkb.api.auth import KeyError_

    store, settings = _keystore(data)
    try:
        store.revoke(name)
    except KeyError_ as exc:
        fail(str(exc))
    _audit_cli(settings, "key_revoke", name)
    typer.echo(f"revoked {name}")
