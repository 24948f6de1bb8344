"""The `pactkb` command: ingest, stats, search, serve, eval, keys, audit."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from pactkb.settings import SENSITIVITY_LEVELS, Settings

app = typer.Typer(
    name="pactkb",
    help="Knowledge base and semantic search over law-enforcement guidelines.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DataOpt = Annotated[Optional[Path], typer.Option("--data", help="Data directory [env PACTKB_DATA, default ./data].")]
ModelOpt = Annotated[
    Optional[str], typer.Option("--model", help="Sentence-transformers model name or path [env PACTKB_MODEL].")
]
EncoderOpt = Annotated[Optional[str], typer.Option("--encoder", help="torch or onnx [env PACTKB_ENCODER].")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]


def make_settings(**overrides: Any) -> Settings:
    """Settings from the environment with CLI flags (those given) on top."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)
    except Exception as exc:  # noqa: BLE001 - pydantic names the bad field
        fail(f"invalid setting: {exc}", code=2)
        raise  # unreachable


def fail(message: str, code: int = 1) -> None:
    """Print an error to stderr and exit."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def emit_json(obj: Any) -> None:
    """Print JSON to stdout."""
    typer.echo(json.dumps(obj, ensure_ascii=False, indent=None, default=str))


def open_kb(settings: Settings):  # noqa: ANN201
    """A knowledge base, turning store errors into a clean exit."""
    from pactkb.index.kb import KnowledgeBase
    from pactkb.index.store import StoreError

    try:
        return KnowledgeBase(settings)
    except StoreError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot open data directory {settings.data}: {exc}")


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="PDF, text or Markdown files, or folders (recursive).")],
    data: DataOpt = None,
    model: ModelOpt = None,
    encoder: EncoderOpt = None,
    json_out: JsonOpt = False,
    prune: Annotated[bool, typer.Option("--prune", help="Remove documents whose files are gone.")] = False,
    sensitivity: Annotated[
        Optional[str], typer.Option("--sensitivity", help="public, restricted or confidential for these files.")
    ] = None,
    manifest: Annotated[
        Optional[Path], typer.Option("--manifest", help="Metadata manifest (TSV/CSV/YAML with a file column).")
    ] = None,
    chunk_tokens: Annotated[Optional[int], typer.Option(help="Target chunk size in model tokens.")] = None,
    chunk_overlap: Annotated[Optional[int], typer.Option(help="Chunk overlap in model tokens.")] = None,
    ocr: Annotated[Optional[str], typer.Option(help="auto or off.")] = None,
    ocr_languages: Annotated[Optional[str], typer.Option(help="Tesseract languages, e.g. eng+srp.")] = None,
    file_timeout: Annotated[Optional[float], typer.Option(help="Seconds allowed per file.")] = None,
) -> None:
    """Ingest documents into the knowledge base (incremental: unchanged files embed nothing)."""
    from pactkb.index.embed import ModelLoadError
    from pactkb.index.store import StoreError
    from pactkb.ingest.manifest import ManifestError

    if sensitivity is not None and sensitivity not in SENSITIVITY_LEVELS:
        fail(f"--sensitivity must be one of {', '.join(SENSITIVITY_LEVELS)} (got {sensitivity!r})", code=2)
    if manifest is not None and not manifest.is_file():
        fail(f"--manifest {manifest}: no such file", code=2)
    settings = make_settings(
        data=data, model=model, encoder=encoder, chunk_tokens=chunk_tokens, chunk_overlap=chunk_overlap,
        ocr=ocr, ocr_languages=ocr_languages, file_timeout=file_timeout,
    )
    kb = open_kb(settings)
    try:
        indexer = kb.indexer
        summary = indexer.ingest(
            paths, prune=prune, sensitivity=sensitivity, manifest=manifest, progress=sys.stderr.isatty() and not json_out
        )
    except (ModelLoadError, StoreError, ManifestError) as exc:
        fail(str(exc))
        return
    result = summary.to_dict()
    result.pop("documents", None)
    if json_out:
        emit_json(result)
    else:
        typer.echo(
            f"{summary.files} file(s): {summary.indexed} indexed, {summary.unchanged} unchanged, "
            f"{summary.removed} removed, {len(summary.failed)} failed; {summary.chunks} chunks "
            f"({summary.chunks_embedded} embedded), {summary.pages_ocr} page(s) OCR'd, {summary.seconds:.1f} s"
        )
        for f in summary.failed:
            typer.secho(f"  failed: {f['file']}: {f['error']}", fg=typer.colors.YELLOW, err=True)
        for w in summary.warnings:
            typer.secho(f"  warning: {w['file']}: {w['warning']}", fg=typer.colors.YELLOW, err=True)
    nothing = summary.indexed + summary.unchanged + summary.removed == 0
    if summary.files and nothing:
        raise typer.Exit(1)
    if summary.files == 0 and not prune:
        typer.secho("error: no PDF, text or Markdown files found", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)


@app.command()
def stats(
    data: DataOpt = None,
    json_out: JsonOpt = False,
    check: Annotated[bool, typer.Option("--check", help="Verify SQLite, FTS and FAISS agree.")] = False,
    model: ModelOpt = None,
) -> None:
    """Show what the knowledge base holds (and check its consistency)."""
    from pactkb.index import check as checks
    from pactkb.index.dense import DenseIndex

    settings = make_settings(data=data, model=model)
    if not (settings.data / "pactkb.sqlite3").exists():
        fail(f"no knowledge base in {settings.data} (run 'pactkb ingest' first)")
    kb = open_kb(settings)
    name, dim = kb.store.model_info()
    dense = None
    if dim:
        s = settings
        dense = DenseIndex(kb.store, dim, s.dense_index, s.ann_threshold, s.ivf_nprobe, s.small_filter)
        dense.load()
    result = checks.stats(kb.store, dense)
    problems: list[str] = []
    if check:
        problems = checks.check(kb.store, dense) if dense else []
        result["check"] = {"ok": not problems, "problems": problems}
    if json_out:
        emit_json(result)
    else:
        typer.echo(f"data:       {settings.data}")
        typer.echo(f"model:      {result['model']} (dim {result['dim']})")
        typer.echo(f"documents:  {result['documents']}   pages: {result['pages']}   chunks: {result['chunks']}")
        if dense:
            typer.echo(f"dense:      {result['dense_index']} index, {result['dense_vectors']} vectors, "
                       f"{result['dense_bytes'] / 1e6:.1f} MB on disk")
        typer.echo(f"store:      {result['store_bytes'] / 1e6:.1f} MB, originals {result['originals_bytes'] / 1e6:.1f} MB")
        for key in ("by_language", "by_type", "by_area", "by_sensitivity"):
            typer.echo(f"{key[3:]:11} " + ", ".join(f"{k}: {v}" for k, v in result[key].items()))
        if check:
            typer.echo("check:      ok" if not problems else "check:      PROBLEMS")
            for p in problems:
                typer.secho(f"  - {p}", fg=typer.colors.RED)
    if problems:
        raise typer.Exit(1)


def main() -> None:
    """Console entry point."""
    logging.basicConfig(level=os.environ.get("PACTKB_LOG_LEVEL", "WARNING"), format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    app()


if __name__ == "__main__":
    main()
