"""`pactkb ingest`: files and folders into the knowledge base through the ingestion pipeline."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pactkb.cli.audit import cli_actor, record
from pactkb.cli.common import (
    DataOpt,
    EncoderOpt,
    JsonOpt,
    ModelOpt,
    emit_json,
    fail,
    make_settings,
    open_kb,
    setting,
)
from pactkb.settings import SENSITIVITY_LEVELS, Settings, one_of

if TYPE_CHECKING:
    from pactkb.index.pipeline import IngestPipeline, IngestSummary


def ingest(
    paths: Annotated[
        list[Path], typer.Argument(help="PDF, text or Markdown files, or folders (recursive).", metavar="PATH")
    ],
    data: DataOpt = None,
    model: ModelOpt = None,
    encoder: EncoderOpt = None,
    json_out: JsonOpt = False,
    prune: Annotated[bool, typer.Option("--prune", help="Remove documents whose files are gone.")] = False,
    reparse: Annotated[
        bool,
        typer.Option(
            "--reparse",
            help="Parse stored files again with the current settings (e.g. PACTKB_PDF_TEXT); unchanged chunk text "
            "keeps its vectors.",
        ),
    ] = False,
    sensitivity: Annotated[
        str | None, typer.Option("--sensitivity", help=f"{one_of(SENSITIVITY_LEVELS)} for these files.")
    ] = None,
    manifest: Annotated[
        Path | None, typer.Option("--manifest", help="Metadata manifest (TSV/CSV/YAML with a file column).")
    ] = None,
    chunk_tokens: Annotated[int | None, setting("chunk_tokens")] = None,
    chunk_overlap: Annotated[int | None, setting("chunk_overlap")] = None,
    ocr: Annotated[str | None, setting("ocr", help="auto or off.")] = None,
    ocr_languages: Annotated[str | None, setting("ocr_languages")] = None,
    pdf_text: Annotated[str | None, setting("pdf_text")] = None,
    file_timeout: Annotated[float | None, setting("file_timeout")] = None,
    ray_address: Annotated[str | None, setting("ray_address", "--ray")] = None,
) -> None:
    """Ingest documents into the knowledge base (incremental: unchanged files embed nothing)."""
    from pactkb.index.encoder import ModelLoadError
    from pactkb.index.store import StoreError
    from pactkb.ingest.manifest import ManifestError

    if sensitivity is not None and sensitivity not in SENSITIVITY_LEVELS:
        fail(f"--sensitivity must be one of {', '.join(SENSITIVITY_LEVELS)} (got {sensitivity!r})", code=2)
    if manifest is not None and not manifest.is_file():
        fail(f"--manifest {manifest}: no such file", code=2)
    settings = make_settings(
        data=data,
        model=model,
        encoder=encoder,
        chunk_tokens=chunk_tokens,
        chunk_overlap=chunk_overlap,
        ocr=ocr,
        ocr_languages=ocr_languages,
        pdf_text=pdf_text,
        file_timeout=file_timeout,
        ray_address=ray_address,
    )
    kb = open_kb(settings)
    progress = sys.stderr.isatty() and not json_out
    try:
        if settings.ray_address:
            summary = _ingest_on_ray(kb.indexer, paths, prune, sensitivity, manifest, progress, reparse)
        else:
            summary = kb.indexer.ingest(
                paths, prune=prune, sensitivity=sensitivity, manifest=manifest, progress=progress, reparse=reparse
            )
    except (ModelLoadError, StoreError, ManifestError) as exc:
        fail(str(exc))
        return
    _audit_ingest(settings, summary, [str(p) for p in paths])
    result = summary.to_dict()
    result.pop("documents", None)
    result.pop("removed_documents", None)
    if json_out:
        emit_json(result)
    else:
        typer.echo(
            f"{summary.files} file(s): {summary.indexed} indexed, {summary.unchanged} unchanged, "
            f"{summary.removed} removed, {len(summary.failed)} failed, {len(summary.skipped)} skipped; "
            f"{summary.chunks} chunks "
            f"({summary.chunks_embedded} embedded), {summary.pages_ocr} page(s) OCR'd, {summary.seconds:.1f} s"
        )
        for f in summary.failed:
            typer.secho(f"  failed: {f['file']}: {f['error']}", fg=typer.colors.YELLOW, err=True)
        for w in summary.warnings:
            typer.secho(f"  warning: {w['file']}: {w['warning']}", fg=typer.colors.YELLOW, err=True)
        for skipped in summary.skipped:
            typer.secho(f"  skipped: {skipped['file']}: {skipped['reason']}", fg=typer.colors.YELLOW, err=True)
    nothing = summary.indexed + summary.unchanged + summary.removed == 0
    if summary.files and nothing:
        raise typer.Exit(1)
    if summary.files == 0 and not prune:
        typer.secho("error: no PDF, text or Markdown files found", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)


def _ingest_on_ray(
    indexer: IngestPipeline,
    paths: list[Path],
    prune: bool,
    sensitivity: str | None,
    manifest: Path | None,
    progress: bool,
    reparse: bool = False,
) -> IngestSummary:
    """The same ingestion with the parse → embed stages on a Ray cluster (index/distributed.py: imports Ray)."""
    try:
        from pactkb.index.distributed import RayIngest, RayUnavailable, ray_cluster
    except ImportError as exc:
        fail(f"--ray needs Ray, the distributed extra: pip install 'pactkb[distributed]' ({exc})", code=2)
        raise  # unreachable
    address = indexer.settings.ray_address
    if not address:
        fail("--ray needs a cluster address: local, auto or host:port", code=2)
        raise typer.Exit(2)  # unreachable
    try:
        with ray_cluster(address, indexer.settings):
            return indexer.ingest(
                paths,
                prune=prune,
                sensitivity=sensitivity,
                manifest=manifest,
                progress=progress,
                run_todo=RayIngest(indexer),
                reparse=reparse,
            )
    except RayUnavailable as exc:
        fail(str(exc))
        raise  # unreachable


def _audit_ingest(settings: Settings, summary: IngestSummary, paths: list[str]) -> None:
    """Record a command-line ingestion in the audit log: what it indexed, and each document it deleted (--prune)."""
    from pactkb.api.audit import AuditEvent

    route = "pactkb ingest"
    events = [
        AuditEvent(
            actor=cli_actor(),
            via="cli",
            action="ingest",
            method="CLI",
            route=route,
            status=0,
            document_ids=summary.documents,
            detail=json.dumps({"paths": paths, "indexed": summary.indexed, "removed": summary.removed}),
        )
    ]
    events += [
        AuditEvent(
            actor=cli_actor(),
            via="cli",
            action="delete",
            method="CLI",
            route=route,
            status=0,
            target=doc_id,
            document_ids=[doc_id],
            detail="pruned: its file is gone",
        )
        for doc_id in summary.removed_documents
    ]
    record(settings, events)
