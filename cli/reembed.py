"""`pactkb reembed`: move a store to the configured encoder without re-parsing its documents."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from pactkb.cli.common import DataOpt, EncoderOpt, JsonOpt, ModelOpt, emit_json, fail, make_settings


def reembed(
    data: DataOpt = None,
    model: ModelOpt = None,
    encoder: EncoderOpt = None,
    precision: Annotated[
        str | None, typer.Option(help="auto, fp32, bf16, int8 or int8-mixed [env PACTKB_PRECISION].")
    ] = None,
    batch_size: Annotated[int | None, typer.Option(help="Texts per encoder batch.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Re-embed a store in place with the configured encoder (the default unless --model / PACTKB_MODEL says
    otherwise), without re-parsing documents: new vectors are built aside, an interrupted run resumes, and they
    replace the old ones in one step. Restart running servers afterwards."""
    from pactkb.index.encoder import ModelLoadError
    from pactkb.index.encoder_factory import LazyEncoder
    from pactkb.index.kb import KnowledgeBase
    from pactkb.index.reembed import ReembedError
    from pactkb.index.reembed import reembed as run_reembed
    from pactkb.index.store import Store, StoreError

    settings = make_settings(data=data, model=model, encoder=encoder, precision=precision, batch_size=batch_size)
    if not (settings.data / "pactkb.sqlite3").exists():
        fail(f"no knowledge base in {settings.data} (run 'pactkb ingest' first)")
    target = LazyEncoder(settings)
    try:
        summary = run_reembed(
            Store(settings.data), target, batch_size=settings.batch_size, progress=sys.stderr.isatty() and not json_out
        )
        if summary.published:
            KnowledgeBase(settings, encoder=target).indexer.publish()
    except (ReembedError, ModelLoadError, StoreError) as exc:
        fail(str(exc))
        return
    if json_out:
        emit_json(summary.to_dict())
    elif not summary.published:
        typer.echo(f"{settings.data} already uses {summary.target}: nothing to re-embed")
    else:
        resumed = f" ({summary.resumed} from an interrupted run)" if summary.resumed else ""
        typer.echo(
            f"re-embedded {summary.chunks} chunks{resumed}: {summary.source} -> {summary.target} in "
            f"{summary.seconds:.1f} s; restart running 'pactkb serve' processes"
        )
        if summary.over_limit:
            typer.secho(
                f"  warning: {summary.over_limit} chunk(s) exceed the new model's token limit and are read "
                "truncated; re-ingest to re-chunk them",
                fg=typer.colors.YELLOW,
                err=True,
            )
