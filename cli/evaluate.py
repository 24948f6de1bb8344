"""`pactkb eval`: retrieval scores on a BEIR collection or the page-level domain set (the evaluation package is
imported only when the command runs)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

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
from pactkb.settings import SEARCH_MODES


def eval_cmd(
    collection: Annotated[
        Path,
        typer.Argument(
            help="A BEIR folder (corpus.jsonl, queries.jsonl, qrels/) or a domain "
            "set (queries.jsonl + page-level qrels.tsv, e.g. evaluation/domain)."
        ),
    ],
    split: Annotated[
        str | None,
        typer.Option(help="BEIR: the qrels split [default: test]. Domain set: dev, test or all [default: all]."),
    ] = None,
    mode: Annotated[list[str] | None, typer.Option("--mode", help="Modes to run (repeat); default all three.")] = None,
    data: DataOpt = None,
    model: ModelOpt = None,
    encoder: EncoderOpt = None,
    cache_dir: Annotated[
        Path | None, typer.Option(help=escape("Where eval indexes are cached [default: <data>/cache]."))
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N judged queries (quick checks).")] = None,
    corpus: Annotated[
        Path | None, typer.Option(help="Domain sets: ingest this folder (incrementally) before scoring.")
    ] = None,
    rrf_k: Annotated[int | None, setting("rrf_k", help="Reciprocal-rank-fusion k.")] = None,
    weight_dense: Annotated[float | None, setting("weight_dense", help="Fusion weight of dense.")] = None,
    weight_lexical: Annotated[float | None, setting("weight_lexical", help="Fusion weight of lexical.")] = None,
    reranker: Annotated[str | None, setting("reranker", help="CrossEncoder path for reranking.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Score retrieval: BEIR collections (nDCG@10, Recall@10/100, MRR@10, MAP@100) or the page-level domain set."""
    from pactkb.evaluation.beir import CollectionError, evaluate_collection, format_table
    from pactkb.evaluation.domain import (
        DOMAIN_SPLITS,
        DomainSetError,
        evaluate_domain,
        format_tables,
        is_domain_set,
    )

    modes = tuple(mode or SEARCH_MODES)
    bad = [m for m in modes if m not in SEARCH_MODES]
    if bad:
        fail(f"--mode {bad[0]!r} is not one of {', '.join(SEARCH_MODES)}", code=2)
    if not collection.is_dir():
        fail(f"{collection}: not a folder", code=2)
    settings = make_settings(
        data=data,
        model=model,
        encoder=encoder,
        cache_dir=cache_dir,
        rrf_k=rrf_k,
        weight_dense=weight_dense,
        weight_lexical=weight_lexical,
        reranker=reranker,
    )
    if is_domain_set(collection):
        if split not in (None, *DOMAIN_SPLITS):
            fail(f"--split {split!r}: the domain set has the halves {', '.join(DOMAIN_SPLITS)}", code=2)
        kb = open_kb(settings)
        if corpus is not None:
            summary = kb.indexer.ingest([corpus], progress=sys.stderr.isatty())
            if summary.failed:
                typer.secho(f"{len(summary.failed)} file(s) failed to ingest", fg=typer.colors.YELLOW, err=True)
        try:
            result = evaluate_domain(collection, kb, modes, split=split or "all")
        except DomainSetError as exc:
            fail(str(exc), code=2)
            return
        if json_out:
            emit_json(result)
        else:
            typer.echo(
                f"{result['collection']} ({result['split']}, {result['queries']} queries: "
                f"{result['answerable']} answerable, "
                f"{result['no_answer']} without answer; {result['judged_files']} judged files; model {result['model']})"
            )
            typer.echo(format_tables(result))
        return
    try:
        result = evaluate_collection(
            collection, settings, split=split or "test", modes=modes, progress=sys.stderr.isatty(), limit=limit
        )
    except CollectionError as exc:
        fail(str(exc), code=2)
        return
    if json_out:
        emit_json(result)
        return
    typer.echo(
        f"{result['collection']} ({result['split']}, {result['queries']} queries, {result['documents']} documents, "
        f"{result['chunks']} chunks, model {result['model']})"
    )
    typer.echo(format_table(result))
