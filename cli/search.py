"""`pactkb search`: one query or a JSONL batch, as readable results or JSON."""

from __future__ import annotations

import json
import sys
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

import typer

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
from pactkb.settings import MAX_PAGE_SIZE, SEARCH_MODES, Settings, one_of

RESULT_FIELDS = (
    "rank",
    "score",
    "chunk_id",
    "document_id",
    "file",
    "title",
    "page_start",
    "page_end",
    "page_label",
    "section",
    "snippet",
    "text",
    "also_in",
    "more_pages",
    "year",
    "publisher",
    "doc_type",
    "language",
    "areas",
    "sensitivity",
    "region",
    "superseded_by",
)


def hit_json(hit) -> dict[str, Any]:  # noqa: ANN001
    """The public JSON shape of one result."""
    d = hit.to_dict()
    return {k: d[k] for k in RESULT_FIELDS}


BOLD, RESET = "\033[1m", "\033[0m"


@lru_cache(maxsize=1)
def region_names() -> dict[str, str]:
    """A passage region's name as the search page shows it (its strings table, api/web/i18n/en.json), lower-cased."""
    table = Path(__file__).resolve().parents[1] / "api" / "web" / "i18n" / "en.json"
    strings = json.loads(table.read_text(encoding="utf-8"))
    return {k.removeprefix("region_"): v.lower() for k, v in strings.items() if k.startswith("region_")}


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


def profile_line(timings: dict[str, float]) -> str:
    """The stages that took time, slowest first: 'encode 9.1 ms · lexical 4.2 ms · ... (total 17.0 ms)'."""
    stages = sorted(((ms, name) for name, ms in timings.items() if name != "total" and ms > 0), reverse=True)
    return " · ".join(f"{name} {ms:.1f} ms" for ms, name in stages) + f" (total {timings['total']:.1f} ms)"


def edition_name(doc: dict[str, Any]) -> str:
    """A newer edition as the search page names it: its title, with its year unless the title holds it."""
    year = doc.get("year")
    return f"{doc['title']} ({year})" if year and str(year) not in doc["title"] else doc["title"]


def count_text(total: int, relation: str) -> str:
    """'250 result(s)', or 'at least 250 result(s)' when the total is a lower bound (relation 'gte')."""
    return f"{'at least ' if relation == 'gte' else ''}{total} result(s)"


def empty_hint(total: int, offset: int, filtered: bool) -> str:
    """What to do when a search shows nothing (the search page's advice, in command-line terms)."""
    if total > 0 and offset >= total:
        return f"Nothing on this page: the search found {total} result(s); use an --offset below {total}."
    if filtered:
        return (
            "No passages match. The --filter options are narrowing this search; removing them may bring results back."
        )
    return "No passages match. Try other words, a broader question, or another --mode."


def printed_label(start: int, end: int, label: str | None) -> str:
    """' (printed iv)' when a passage's printed page label says other than its physical pages, else ''."""
    return f" (printed {label})" if label and label not in {str(start), f"{start}–{end}"} else ""


def _print_result(res, profile: bool = False, filtered: bool = False) -> None:  # noqa: ANN001
    """Readable results for a terminal (with the time per stage when profiled; advice when there are none)."""
    typer.echo(f"{count_text(res.total, res.total_relation)} for {res.query!r} in {res.took_ms:.0f} ms ({res.mode})")
    if profile and res.timings:
        typer.secho(f"Stages: {profile_line(res.timings)}", fg=typer.colors.MAGENTA)
    if res.translation:
        typer.secho(f"Also searched in English: {' '.join(res.translation)}", fg=typer.colors.CYAN)
    if res.expansion:
        typer.secho(f"Also searched for: {', '.join(res.expansion)}", fg=typer.colors.CYAN)
    if res.no_good_answer:
        typer.secho("Nothing in the knowledge base answers this well; the closest passages:", fg=typer.colors.YELLOW)
    if not res.results:
        typer.secho(empty_hint(res.total, res.offset, filtered), fg=typer.colors.YELLOW)
    for h in res.results:
        pages = f"p. {h.page_start}" if h.page_start == h.page_end else f"p. {h.page_start}–{h.page_end}"
        label = printed_label(h.page_start, h.page_end, h.page_label)
        typer.secho(f"\n{h.rank}. {' '.join(h.title.split())}", bold=True)
        region = region_names().get(h.region) if h.region != "body" else None  # as the search page labels them
        meta = " · ".join(
            x for x in [h.publisher, str(h.year) if h.year else None, f"{pages}{label}", h.file, region] if x
        )
        typer.secho(f"   {meta}", fg=typer.colors.BLUE)
        if h.section:
            typer.echo(f"   § {' '.join(h.section.split())}")
        typer.echo(f"   {_terminal_snippet(h.snippet)}")
        if h.superseded_by:
            typer.secho(f"   superseded by a newer edition: {edition_name(h.superseded_by)}", fg=typer.colors.YELLOW)
        for other in h.also_in:
            typer.secho(f"   also in: {other['title']} (p. {other['page_start']})", fg=typer.colors.CYAN)
        more = sorted(
            {n for m in h.more_pages for n in range(m["page_start"], m["page_end"] + 1)}
            - set(range(h.page_start, h.page_end + 1))
        )
        if more:
            typer.secho(f"   more in this document: {page_ranges(more)}", fg=typer.colors.CYAN)


def corpus_languages(settings: Settings) -> list[str | None]:
    """The languages of the store's documents (every one: the command line sees everything), none without a store or
    when it cannot be opened (opening it for the search then says why)."""
    from pactkb.index.filters import Filters
    from pactkb.index.store import StoreError
    from pactkb.index.stores import open_store

    if not settings.database_url and not (settings.data / "pactkb.sqlite3").exists():
        return []
    try:
        store = open_store(settings, catch_up=False)
    except StoreError:
        return []
    try:
        return store.document_languages(Filters())
    finally:
        store.close()


def open_searcher(settings: Settings):  # noqa: ANN201
    """A searcher over an existing knowledge base, or a clean exit."""
    from pactkb.index.encoder import ModelLoadError
    from pactkb.index.store import StoreError

    if not settings.database_url and not (settings.data / "pactkb.sqlite3").exists():  # a replica may start empty
        fail(f"no knowledge base in {settings.data} (run 'pactkb ingest' first)")
    kb = open_kb(settings)
    try:
        searcher = kb.searcher
        searcher.warm_up()  # load the models and dictionaries before anything is timed
        return searcher
    except (ModelLoadError, StoreError) as exc:
        fail(str(exc))


def search(
    query: Annotated[str | None, typer.Argument(help="What to look for, in your own words.")] = None,
    data: DataOpt = None,
    model: ModelOpt = None,
    encoder: EncoderOpt = None,
    k: Annotated[int, typer.Option("-k", "--k", min=1, max=MAX_PAGE_SIZE, help="Results per query.")] = 10,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many results (paging).")] = 0,
    mode: Annotated[str | None, setting("mode", help=f"{one_of(SEARCH_MODES)}.")] = None,
    filter_: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            help="name=value, repeat for OR: type, area, language, publisher, document, sensitivity, "
            "year (2020, 2020-2025, 2020-, -2025).",
        ),
    ] = None,
    group: Annotated[bool, typer.Option("--group", help="One result per document.")] = False,
    queries: Annotated[
        Path | None,
        typer.Option(
            "--queries",
            help="Batch: JSONL with _id and text per line; prints one JSON line per query (--json's shape, with "
            "query_id).",
        ),
    ] = None,
    reranker: Annotated[str | None, setting("reranker", help="CrossEncoder model path to rerank the top hits.")] = None,
    profile: Annotated[
        bool, typer.Option("--profile", help="Also show the milliseconds per search stage (JSON: `timings`).")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Search the knowledge base (one query, or a batch with --queries)."""
    from pactkb.index.filters import FilterError, Filters, deprecated_filters, deprecation_note
    from pactkb.index.hybrid import SearchError

    if mode is not None and mode not in SEARCH_MODES:
        fail(f"--mode must be one of {', '.join(SEARCH_MODES)} (got {mode!r})", code=2)
    if (query is None) == (queries is None):
        fail("give a QUERY or --queries FILE.jsonl (not both)", code=2)
    if query is not None and not query.strip():
        fail("the query is blank: give some words to search for", code=2)
    settings = make_settings(data=data, model=model, encoder=encoder, reranker=reranker)
    try:
        filters = Filters.parse(filter_ or [], lambda: corpus_languages(settings))
    except FilterError as exc:
        fail(f"--filter: {exc}", code=2)
        return
    for old, new in deprecated_filters(pair.split("=", 1)[0] for pair in filter_ or []).items():
        typer.secho(f"warning: --filter {deprecation_note(old, new)}", fg=typer.colors.YELLOW, err=True)
    searcher = open_searcher(settings)
    try:
        if queries is not None:
            _batch(searcher, queries, k, mode, filters, group, profile)
            return
        res = searcher.search(query, k=k, offset=offset, mode=mode, filters=filters, group_by_document=group)
    except SearchError as exc:
        fail(str(exc), code=2)
        return
    if json_out:
        emit_json(result_json(res, profile))
    else:
        _print_result(res, profile, filtered=bool(filter_))


def result_json(res, profile: bool = False) -> dict[str, Any]:  # noqa: ANN001
    """The public JSON shape of a search's answer (one query of --json, one line of a --queries batch)."""
    return {
        "query": res.query,
        "mode": res.mode,
        "took_ms": res.took_ms,
        "total": res.total,
        "total_relation": res.total_relation,
        "no_good_answer": res.no_good_answer,
        "query_language": res.language,
        "query_translation": res.translation,
        "query_expansion": res.expansion,
        "results": [hit_json(h) for h in res.results],
        **({"timings": res.timings} if profile else {}),
    }


def _batch(searcher, path: Path, k: int, mode: str | None, filters, group: bool, profile: bool) -> None:  # noqa: ANN001
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
    vecs = (
        searcher.encoder.encode_queries([t for _, t in items])
        if (mode or searcher.settings.mode) != "lexical"
        else None
    )
    for i, (qid, text) in enumerate(items):
        res = searcher.search(
            text, k=k, mode=mode, filters=filters, group_by_document=group, qvec=vecs[i] if vecs is not None else None
        )
        emit_json({"query_id": qid, **result_json(res, profile)})
