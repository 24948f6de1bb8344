"""The `pactkb` console command: every command group registered on one Typer app, and the entry point.

A command lives in its own module (cli/<group>.py) as a plain function; it is registered here, in the order
`pactkb --help` lists it."""

from __future__ import annotations

import logging
import os

import typer

from pactkb.cli import audit, db, evaluate, ingest, keys, reembed, search, serve, stats
from pactkb.cli.common import Command, Group

app = typer.Typer(
    name="pactkb",
    cls=Group,
    help="Knowledge base and semantic search over law-enforcement guidelines.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command(cls=Command)(ingest.ingest)
app.command(cls=Command)(stats.stats)
app.command(cls=Command)(search.search)
app.command(name="eval", cls=Command)(evaluate.eval_cmd)
app.command(cls=Command)(serve.serve)
app.command(cls=Command)(audit.audit)
app.command()(reembed.reembed)
app.add_typer(keys.keys_app, name="keys")
app.add_typer(db.db_app, name="db")


def main() -> None:
    """Console entry point."""
    logging.basicConfig(
        level=os.environ.get("PACTKB_LOG_LEVEL", "WARNING"), format="%(levelname)s %(name)s: %(message)s"
    )
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    app()


if __name__ == "__main__":
    main()
