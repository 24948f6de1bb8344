"""The `pactkb` command: ingest, stats, search, serve, eval, reembed, keys, audit."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.markup import escape
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from pactkb.settings import SENSITIVITY_LEVELS, Settings


def shown_default(name: str) -> str:
    """A setting's default as the help shows it (paths relative to the working directory as ./data)."""
    value = Settings.model_fields[name].default
    if isinstance(value, Path) and not value.is_absolute():
        return f"./{value}"
    return "none" if value is None else str(value)


def setting(name: str, *decls: str, help: str | None = None) -> Any:  # noqa: A002 - typer's own keyword
    """An option for a Settings field: its help names the environment variable and the default (one source)."""
    text = help or Settings.model_fields[name].description or ""
    suffix = f"[env var: PACTKB_{name.upper()}] [default: {shown_default(name)}]"
    return typer.Option(*decls, help=escape(f"{text} {suffix}"))


class PlainFlags:
    """Flags take no value: the help shows no <bool> type for them (--help included)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Blank the type of every flag."""
        super().__init__(*args, **kwargs)
        for param in self.params:
            if isinstance(param, TyperOption) and param.is_flag:
                param.metavar = ""

    def get_help_option(self, ctx: Any) -> Any:
        """The --help flag, without a type."""
        option = super().get_help_option(ctx)
        if option is not None:
            option.metavar = ""
        return option


class Group(PlainFlags, TyperGroup):
    """The command groups (pactkb, pactkb keys)."""


class Command(PlainFlags, TyperCommand):
    """A command whose usage line reads naturally (PATH..., not {paths}...) and whose flags show no <bool>."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        """[OPTIONS] then each argument as NAME, NAME... (repeatable) or [NAME] (optional)."""
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                name = (param.metavar or param.name or "").upper() + ("..." if param.nargs != 1 else "")
                pieces.append(name if param.required else f"[{name}]")
        return pieces


app = typer.Typer(
    name="pactkb",
    cls=Group,
    help="Knowledge base and semantic search over law-enforcement guidelines.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DataOpt = Annotated[Optional[Path], setting("data", "--data")]
ModelOpt = Annotated[Optional[str], setting("model", "--model", help="Sentence-transformers model name or path.")]
EncoderOpt = Annotated[Optional[str], setting("encoder", "--encoder", help="openvino (default), torch or onnx.")]
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


@app.command(cls=Command)
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="PDF, text or Markdown files, or folders (recursive).", metavar="PATH")],
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
    chunk_tokens: Annotated[Optional[int], setting("chunk_tokens")] = None,
    chunk_overlap: Annotated[Optional[int], setting("chunk_overlap")] = None,
    ocr: Annotated[Optional[str], setting("ocr", help="auto or off.")] = None,
    ocr_languages: Annotated[Optional[str], setting("ocr_languages")] = None,
    file_timeout: Annotated[Optional[float], setting("file_timeout")] = None,
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
    _audit_ingest(settings, summary, [str(p) for p in paths])
    result = summary.to_dict()
    result.pop("documents", None)
    result.pop("removed_documents", None)
    if json_out:
        emit_json(result)
    else:
        typer.echo(
            f"{summary.files} file(s): {summary.indexed} indexed, {summary.unchanged} unchanged, "
            f"{summary.removed} removed, {len(summary.failed)} failed, {len(summary.skipped)} skipped; {summary.chunks} chunks "
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


def _audit_ingest(settings: Settings, summary, paths: list[str]) -> None:  # noqa: ANN001
    """Record a command-line ingestion in the audit log: what it indexed, and each document it deleted (--prune)."""
    from pactkb.api.audit import AuditEvent

    route = "pactkb ingest"
    events = [AuditEvent(actor=cli_actor(), via="cli", action="ingest", method="CLI", route=route, status=0,
                         document_ids=summary.documents, detail=json.dumps({"paths": paths, "indexed": summary.indexed,
                                                                             "removed": summary.removed}))]
    events += [AuditEvent(actor=cli_actor(), via="cli", action="delete", method="CLI", route=route, status=0,
                          target=doc_id, document_ids=[doc_id], detail="pruned: its file is gone")
               for doc_id in summary.removed_documents]
    _record(settings, events)


@app.command(cls=Command)
def stats(
    data: DataOpt = None,
    json_out: JsonOpt = False,
    check: Annotated[bool, typer.Option("--check", help="Verify SQLite, FTS and FAISS agree.")] = False,
    model: ModelOpt = None,
) -> None:
    """Show what the knowledge base holds (and check its consistency)."""
    from pactkb.index import check as checks
    from pactkb.index.encoder_factory import encoder_identity
    from pactkb.index.kb import is_default_encoder
    from pactkb.index.vectors import vector_index

    settings = make_settings(data=data, model=model)
    if not (settings.data / "pactkb.sqlite3").exists():
        fail(f"no knowledge base in {settings.data} (run 'pactkb ingest' first)")
    kb = open_kb(settings)
    name, dim = kb.store.model_info()
    dense = None
    if dim:
        dense = vector_index(kb.store, dim, settings)
        dense.load()
    result = checks.stats(kb.store, dense)
    result["query_translation"] = translation_stats(settings, kb)
    record = kb.store.encoder_record()
    result.update(precision=record["precision"], weights=record["weights"], default_encoder=is_default_encoder(name),
                  default_model=encoder_identity(Settings.model_construct()))
    problems: list[str] = []
    if check:
        problems = checks.check(kb.store, dense) if dense else []
        result["check"] = {"ok": not problems, "problems": problems}
    if json_out:
        emit_json(result)
    else:
        typer.echo(f"data:       {settings.data}")
        typer.echo(f"model:      {result['model']} (dim {result['dim']})")
        if not result["default_encoder"]:
            typer.secho(f"            not the default encoder ({result['default_model']}): searches use the stored one; "
                        f"'pactkb reembed --data {settings.data}' migrates this store to the default", fg=typer.colors.YELLOW)
        typer.echo(f"documents:  {result['documents']}   pages: {result['pages']}   chunks: {result['chunks']}")
        if dense:
            typer.echo(f"dense:      {result['dense_index']} index, {result['dense_vectors']} vectors, "
                       f"{result['dense_bytes'] / 1e6:.1f} MB on disk")
        typer.echo(f"store:      {result['store_bytes'] / 1e6:.1f} MB, originals {result['originals_bytes'] / 1e6:.1f} MB")
        for key in ("by_language", "by_type", "by_area", "by_sensitivity"):
            typer.echo(f"{key[3:]:11} " + ", ".join(f"{k}: {v}" for k, v in result[key].items()))
        tr = result["query_translation"]
        dicts = "; ".join(f"{langs}: {', '.join(files)}" for langs, files in tr["dictionaries"].items()) or "none"
        typer.echo(f"translate:  dictionaries {dicts}; {tr['english_words']} English corpus words"
                   + (" (with vectors)" if tr["nearest_words"] else ""))
        served = [f"{lang}: {mode}" for lang, mode in tr["apertium"].items() if mode]
        missing = [lang for lang, mode in tr["apertium"].items() if not mode]
        typer.echo(f"            Apertium {', '.join(served) or 'none'}"
                   + (f"; to translate {'/'.join(missing)} queries: {tr['apertium_enable']}" if missing else ""))
        if check:
            typer.echo("check:      ok" if not problems else "check:      PROBLEMS")
            for p in problems:
                typer.secho(f"  - {p}", fg=typer.colors.RED)
    if problems:
        raise typer.Exit(1)


def translation_stats(settings: Settings, kb) -> dict:  # noqa: ANN001
    """What translates queries in other languages: dictionaries per language and the bridge's English words."""
    from pactkb.index.bridge import bridge_path, bridge_wanted, load_arrays
    from pactkb.index.dictionary import dictionaries_by_language
    from pactkb.index.translate import ENABLE, Translator

    languages = [x.strip() for x in settings.query_languages.split(",") if x.strip() and x.strip() != "en"]
    model = kb.store.model_info()[0] or ""
    words, vecs = ([], None)
    if bridge_wanted(settings, model):
        words, vecs, _ = load_arrays(bridge_path(kb.store, model))
    apertium = Translator.from_settings(settings).status(languages) if settings.bridge else {}
    return {"dictionaries": dictionaries_by_language(settings.dictionary_dirs(), languages) if settings.bridge else {},
            "english_words": len(words), "nearest_words": bool(vecs is not None and vecs.size),
            "apertium": apertium, "apertium_enable": ENABLE}


RESULT_FIELDS = ("rank", "score", "chunk_id", "document_id", "file", "title", "page_start", "page_end",
                 "page_label", "section", "snippet", "text", "also_in", "more_pages", "year", "publisher",
                 "doc_type", "language", "areas")


def hit_json(hit) -> dict[str, Any]:  # noqa: ANN001
    """The public JSON shape of one result."""
    d = hit.to_dict()
    return {k: d[k] for k in RESULT_FIELDS}


BOLD, RESET = "\033[1m", "\033[0m"


def _terminal_snippet(html_snippet: str) -> str:
    """The snippet as one line of plain text: <mark> becomes bold on a terminal (or [brackets] when piped)."""
    import html as html_lib

    on, off = (BOLD, RESET) if sys.stdout.isatty() else ("[", "]")
    return " ".join(html_lib.unescape(html_snippet.replace("<mark>", on).replace("</mark>", off)).split())


def page_ranges(pages: list[int], limit: int = 6) -> str:
    """Sorted unique pages as ranges, the first `limit` ranges shown: 'pp. 3–6, 11, 14 and 9 more'."""
    runs: list[list[int]] = []
    for n in sorted(set(pages)):
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    shown = ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in runs[:limit])
    rest = sum(b - a + 1 for a, b in runs[limit:])
    prefix = "p." if len(runs) == 1 and runs[0][0] == runs[0][1] else "pp."
    return f"{prefix} {shown}" + (f" and {rest} more" if rest else "")


def _print_result(res) -> None:  # noqa: ANN001
    """Readable results for a terminal."""
    typer.echo(f"{res.total} result(s) for {res.query!r} in {res.took_ms:.0f} ms ({res.mode})")
    if res.translation:
        typer.secho(f"Also searched in English: {' '.join(res.translation)}", fg=typer.colors.CYAN)
    if res.expansion:
        typer.secho(f"Also searched for: {', '.join(res.expansion)}", fg=typer.colors.CYAN)
    if res.no_good_answer:
        typer.secho("Nothing in the knowledge base answers this well; the closest passages:", fg=typer.colors.YELLOW)
    for h in res.results:
        pages = f"p. {h.page_start}" if h.page_start == h.page_end else f"p. {h.page_start}–{h.page_end}"
        label = f" (printed {h.page_label})" if h.page_label and h.page_label != str(h.page_start) else ""
        typer.secho(f"\n{h.rank}. {' '.join(h.title.split())}", bold=True)
        meta = " · ".join(x for x in [h.publisher, str(h.year) if h.year else None, f"{pages}{label}", h.file] if x)
        typer.secho(f"   {meta}", fg=typer.colors.BLUE)
        if h.section:
            typer.echo(f"   § {' '.join(h.section.split())}")
        typer.echo(f"   {_terminal_snippet(h.snippet)}")
        for other in h.also_in:
            typer.secho(f"   also in: {other['title']} (p. {other['page_start']})", fg=typer.colors.CYAN)
        more = sorted({n for m in h.more_pages for n in range(m["page_start"], m["page_end"] + 1)}
                      - set(range(h.page_start, h.page_end + 1)))
        if more:
            typer.secho(f"   more in this document: {page_ranges(more)}", fg=typer.colors.CYAN)


def open_searcher(settings: Settings):  # noqa: ANN201
    """A searcher over an existing knowledge base, or a clean exit."""
    from pactkb.index.encoder import ModelLoadError
    from pactkb.index.store import StoreError

    if not (settings.data / "pactkb.sqlite3").exists():
        fail(f"no knowledge base in {settings.data} (run 'pactkb ingest' first)")
    kb = open_kb(settings)
    try:
        searcher = kb.searcher
        searcher.warm_up()  # load the models and dictionaries before anything is timed
        return searcher
    except (ModelLoadError, StoreError) as exc:
        fail(str(exc))


@app.command(cls=Command)
def search(
    query: Annotated[Optional[str], typer.Argument(help="What to look for, in your own words.")] = None,
    data: DataOpt = None,
    model: ModelOpt = None,
    encoder: EncoderOpt = None,
    k: Annotated[int, typer.Option("-k", "--k", min=1, max=100, help="Results per query.")] = 10,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many results (paging).")] = 0,
    mode: Annotated[Optional[str], setting("mode", help="hybrid, dense or lexical.")] = None,
    filter_: Annotated[
        Optional[list[str]], typer.Option("--filter", help="name=value, repeat for OR: type, area, language, publisher, document, sensitivity, year (2020, 2020-2025, 2020-, -2025).")
    ] = None,
    group: Annotated[bool, typer.Option("--group", help="One result per document.")] = False,
    queries: Annotated[Optional[Path], typer.Option("--queries", help="Batch: JSONL with _id and text per line.")] = None,
    reranker: Annotated[Optional[str], setting("reranker", help="CrossEncoder model path to rerank the top hits.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Search the knowledge base (one query, or a batch with --queries)."""
    from pactkb.index.filters import FilterError, Filters, deprecated_filters, deprecation_note
    from pactkb.index.hybrid import MODES, SearchError

    if mode is not None and mode not in MODES:
        fail(f"--mode must be one of {', '.join(MODES)} (got {mode!r})", code=2)
    if (query is None) == (queries is None):
        fail("give a QUERY or --queries FILE.jsonl (not both)", code=2)
    if query is not None and not query.strip():
        fail("the query is blank: give some words to search for", code=2)
    try:
        filters = Filters.parse(filter_ or [])
    except FilterError as exc:
        fail(f"--filter: {exc}", code=2)
        return
    for old, new in deprecated_filters(pair.split("=", 1)[0] for pair in filter_ or []).items():
        typer.secho(f"warning: --filter {deprecation_note(old, new)}", fg=typer.colors.YELLOW, err=True)
    settings = make_settings(data=data, model=model, encoder=encoder, reranker=reranker)
    searcher = open_searcher(settings)
    try:
        if queries is not None:
            _batch(searcher, queries, k, mode, filters, group)
            return
        res = searcher.search(query, k=k, offset=offset, mode=mode, filters=filters, group_by_document=group)
    except SearchError as exc:
        fail(str(exc), code=2)
        return
    if json_out:
        emit_json({"query": res.query, "mode": res.mode, "took_ms": res.took_ms, "total": res.total,
                   "no_good_answer": res.no_good_answer, "query_language": res.language,
                   "query_translation": res.translation, "query_expansion": res.expansion, "results": [hit_json(h) for h in res.results]})
    else:
        _print_result(res)


def _batch(searcher, path: Path, k: int, mode: str | None, filters, group: bool) -> None:  # noqa: ANN001
    """Run a JSONL batch in one process, printing one JSON line per query."""
    items = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        fail(f"--queries {path}: {exc.strerror or exc}", code=2)
        return
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            items.append((str(obj["_id"]), str(obj["text"])))
        except (ValueError, KeyError, TypeError):
            fail(f"--queries {path} line {n}: expected a JSON object with _id and text", code=2)
    vecs = searcher.encoder.encode_queries([t for _, t in items]) if (mode or searcher.settings.mode) != "lexical" else None
    for i, (qid, text) in enumerate(items):
        res = searcher.search(text, k=k, mode=mode, filters=filters, group_by_document=group,
                              qvec=vecs[i] if vecs is not None else None)
        emit_json({"query_id": qid, "took_ms": res.took_ms, "results": [hit_json(h) for h in res.results]})


@app.command(name="eval", cls=Command)
def eval_cmd(
    collection: Annotated[Path, typer.Argument(help="A BEIR folder (corpus.jsonl, queries.jsonl, qrels/) or a domain "
                                                    "set (queries.jsonl + page-level qrels.tsv, e.g. evaluation/domain).")],
    split: Annotated[str, typer.Option(help="Which qrels split to score.")] = "test",
    mode: Annotated[Optional[list[str]], typer.Option("--mode", help="Modes to run (repeat); default all three.")] = None,
    data: DataOpt = None,
    model: ModelOpt = None,
    encoder: EncoderOpt = None,
    cache_dir: Annotated[Optional[Path], typer.Option(help=escape("Where eval indexes are cached [default: <data>/cache]."))] = None,
    limit: Annotated[Optional[int], typer.Option(help="Only the first N judged queries (quick checks).")] = None,
    corpus: Annotated[Optional[Path], typer.Option(help="Domain sets: ingest this folder (incrementally) before scoring.")] = None,
    rrf_k: Annotated[Optional[int], setting("rrf_k", help="Reciprocal-rank-fusion k.")] = None,
    weight_dense: Annotated[Optional[float], setting("weight_dense", help="Fusion weight of dense.")] = None,
    weight_lexical: Annotated[Optional[float], setting("weight_lexical", help="Fusion weight of lexical.")] = None,
    reranker: Annotated[Optional[str], setting("reranker", help="CrossEncoder path for reranking.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Score retrieval: BEIR collections (nDCG@10, Recall@10/100, MRR@10, MAP@100) or the page-level domain set."""
    from pactkb.evaluation.beir import CollectionError, evaluate_collection, format_table
    from pactkb.evaluation.domain import DomainSetError, evaluate_domain, format_tables, is_domain_set
    from pactkb.index.hybrid import MODES

    modes = tuple(mode or MODES)
    bad = [m for m in modes if m not in MODES]
    if bad:
        fail(f"--mode {bad[0]!r} is not one of {', '.join(MODES)}", code=2)
    if not collection.is_dir():
        fail(f"{collection}: not a folder", code=2)
    settings = make_settings(data=data, model=model, encoder=encoder, cache_dir=cache_dir, rrf_k=rrf_k,
                             weight_dense=weight_dense, weight_lexical=weight_lexical, reranker=reranker)
    if is_domain_set(collection):
        kb = open_kb(settings)
        if corpus is not None:
            summary = kb.indexer.ingest([corpus], progress=sys.stderr.isatty())
            if summary.failed:
                typer.secho(f"{len(summary.failed)} file(s) failed to ingest", fg=typer.colors.YELLOW, err=True)
        try:
            result = evaluate_domain(collection, kb, modes)
        except DomainSetError as exc:
            fail(str(exc), code=2)
            return
        if json_out:
            emit_json(result)
        else:
            typer.echo(f"{result['collection']} ({result['queries']} queries: {result['answerable']} answerable, "
                       f"{result['no_answer']} without answer; {result['judged_files']} judged files; model {result['model']})")
            typer.echo(format_tables(result))
        return
    try:
        result = evaluate_collection(collection, settings, split=split, modes=modes, progress=sys.stderr.isatty(), limit=limit)
    except CollectionError as exc:
        fail(str(exc), code=2)
        return
    if json_out:
        emit_json(result)
        return
    typer.echo(f"{result['collection']} ({result['split']}, {result['queries']} queries, {result['documents']} documents, "
               f"{result['chunks']} chunks, model {result['model']})")
    typer.echo(format_table(result))


@app.command(cls=Command)
def serve(
    data: DataOpt = None,
    model: ModelOpt = None,
    encoder: EncoderOpt = None,
    host: Annotated[Optional[str], setting("host", help="Interface to bind.")] = None,
    port: Annotated[Optional[int], setting("port", help="Port.")] = None,
    workers: Annotated[Optional[int], setting("workers", help="Worker processes sharing the data directory.")] = None,
    no_anonymous: Annotated[bool, typer.Option("--no-anonymous", help=escape("Require an API key for every request (the same as PACTKB_ANONYMOUS_READ=false) [default: off]."))] = False,
) -> None:
    """Run the HTTP service and the search page (http://HOST:PORT/, API docs at /docs)."""
    import shutil
    import tempfile

    import uvicorn

    from pactkb.api.metrics import MULTIPROC_ENV

    overrides = {"data": data, "model": model, "encoder": encoder, "host": host, "port": port, "workers": workers}
    if no_anonymous:
        overrides["anonymous_read"] = False
    settings = make_settings(**overrides)
    settings.data.mkdir(parents=True, exist_ok=True)
    for key, value in overrides.items():  # worker processes read their settings from the environment
        if value is not None:
            os.environ[f"PACTKB_{key.upper()}"] = str(value.resolve() if isinstance(value, Path) else value)
    typer.echo(f"pactkb serving {settings.data.resolve()} on http://{settings.host}:{settings.port}/ "
               f"({settings.workers} worker(s)); API docs at /docs", err=True)
    shared = None
    if settings.workers > 1 and not os.environ.get(MULTIPROC_ENV):  # /metrics adds up every worker's requests
        shared = tempfile.mkdtemp(prefix="pactkb-metrics-")
        os.environ[MULTIPROC_ENV] = shared
    try:
        uvicorn.run("pactkb.api.app:app_from_env", factory=True, host=settings.host, port=settings.port,
                    workers=settings.workers, log_level="warning", access_log=False)
    finally:
        if shared:
            shutil.rmtree(shared, ignore_errors=True)


keys_app = typer.Typer(help="Manage API keys (stored hashed in the data directory).", no_args_is_help=True, cls=Group)
app.add_typer(keys_app, name="keys")


def _keystore(data: Path | None):  # noqa: ANN202
    """The key store of a data directory."""
    from pactkb.api.auth import KeyStore

    settings = make_settings(data=data)
    return KeyStore(settings.data), settings


def cli_actor() -> str:
    """Who runs the command, for the audit log."""
    return f"cli:{os.environ.get('USER', 'unknown')}"


def _record(settings: Settings, events: list) -> None:  # noqa: ANN001
    """Write audit events from the command line."""
    from pactkb.api.audit import AuditLog

    log = AuditLog(settings.data)
    for event in events:
        log.record(event)
    log.close()


def _audit_cli(settings: Settings, action: str, detail: str) -> None:
    """Record a key change made from the command line."""
    from pactkb.api.audit import AuditEvent

    _record(settings, [AuditEvent(actor=cli_actor(), via="cli", action=action, method="CLI",
                                  route=f"pactkb keys {action.split('_')[-1]}", status=0, detail=detail)])


@keys_app.command("create", cls=Command)
def keys_create(
    name: Annotated[str, typer.Option("--name", help="Who or what uses the key (shown in the audit log).")],
    role: Annotated[str, typer.Option(help="reader, contributor or admin.")] = "reader",
    clearance: Annotated[str, typer.Option(help="public, restricted or confidential.")] = "public",
    data: DataOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Create a key; the secret is printed once."""
    from pactkb.api.auth import ROLES, KeyError_

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
        typer.echo(f"created key {name!r} ({role}, clearance {clearance}); store it now, it is not shown again", err=True)


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


@app.command(cls=Command)
def audit(
    data: DataOpt = None,
    since: Annotated[Optional[str], typer.Option(help="ISO date/time or duration (24h, 7d).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Export the audit log (searches, views, downloads, uploads, edits, deletes, key changes)."""
    import datetime as dt

    from pactkb.api.audit import export, printable

    settings = make_settings(data=data)
    rows = export(settings.data, _since(since))
    if json_out:
        for r in rows:
            emit_json(r)
        return
    for r in rows:
        when = dt.datetime.fromtimestamp(r["time"]).isoformat(timespec="seconds")
        docs = ",".join(r["document_ids"][:5]) + ("…" if len(r["document_ids"]) > 5 else "")
        q = f" q={r['query']!r}" if r["query"] else ""
        target = f" target={r['target']}" if r.get("target") else ""
        line = f"{when} {r['actor']:16} {r.get('via') or '-':9} {r['action']:14} {r['status']} {r['route']}{target}{q} {docs}"
        typer.echo(printable(line))


@app.command()
def reembed(
    data: DataOpt = None,
    model: ModelOpt = None,
    encoder: EncoderOpt = None,
    precision: Annotated[Optional[str], typer.Option(help="fp32 or int8 [env PACTKB_PRECISION].")] = None,
    batch_size: Annotated[Optional[int], typer.Option(help="Texts per encoder batch.")] = None,
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
        summary = run_reembed(Store(settings.data), target, batch_size=settings.batch_size,
                              progress=sys.stderr.isatty() and not json_out)
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
        typer.echo(f"re-embedded {summary.chunks} chunks{resumed}: {summary.source} -> {summary.target} in "
                   f"{summary.seconds:.1f} s; restart running 'pactkb serve' processes")
        if summary.over_limit:
            typer.secho(f"  warning: {summary.over_limit} chunk(s) exceed the new model's token limit and are read "
                        "truncated; re-ingest to re-chunk them", fg=typer.colors.YELLOW, err=True)


def main() -> None:
    """Console entry point."""
    logging.basicConfig(level=os.environ.get("PACTKB_LOG_LEVEL", "WARNING"), format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    app()


if __name__ == "__main__":
    main()
