"""`pactkb stats`: what the knowledge base holds, how queries in other languages are translated, and --check."""

from __future__ import annotations

from typing import Annotated

import typer

from pactkb.cli.common import DataOpt, JsonOpt, ModelOpt, emit_json, fail, make_settings, open_kb
from pactkb.settings import Settings


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
    if not settings.database_url and not (settings.data / "pactkb.sqlite3").exists():  # a replica may start empty
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
    result.update(
        precision=record["precision"],
        weights=record["weights"],
        default_encoder=is_default_encoder(name),
        default_model=encoder_identity(Settings.model_construct()),
    )
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
            typer.secho(
                f"            not the default encoder ({result['default_model']}): searches use the stored one; "
                f"'pactkb reembed --data {settings.data}' migrates this store to the default",
                fg=typer.colors.YELLOW,
            )
        typer.echo(f"documents:  {result['documents']}   pages: {result['pages']}   chunks: {result['chunks']}")
        if result["pdf_text"]:
            typer.echo(f"PDF text:   {result['pdf_text']} (new PDFs are read by it too)")
            if result["pdf_text"] != settings.pdf_text:
                typer.secho(
                    f"            not the configured extractor ({settings.pdf_text}): 'pactkb ingest FOLDER… --reparse "
                    f"--pdf-text {settings.pdf_text}' over every folder of this store switches it",
                    fg=typer.colors.YELLOW,
                )
        if dense:
            typer.echo(
                f"dense:      {result['dense_index']} index, {result['dense_vectors']} vectors, "
                f"{result['dense_bytes'] / 1e6:.1f} MB on disk"
            )
        typer.echo(
            f"store:      {result['store_bytes'] / 1e6:.1f} MB, originals {result['originals_bytes'] / 1e6:.1f} MB"
        )
        for key in ("by_language", "by_type", "by_area", "by_sensitivity"):
            typer.echo(f"{key[3:]:11} " + ", ".join(f"{k}: {v}" for k, v in result[key].items()))
        tr = result["query_translation"]
        dicts = "; ".join(f"{langs}: {', '.join(files)}" for langs, files in tr["dictionaries"].items()) or "none"
        typer.echo(
            f"translate:  dictionaries {dicts}; {tr['english_words']} English corpus words"
            + (" (with vectors)" if tr["nearest_words"] else "")
        )
        served = [f"{lang}: {mode}" for lang, mode in tr["apertium"].items() if mode]
        missing = [lang for lang, mode in tr["apertium"].items() if not mode]
        typer.echo(
            f"            Apertium {', '.join(served) or 'none'}"
            + (f"; to translate {'/'.join(missing)} queries: {tr['apertium_enable']}" if missing else "")
        )
        if check:
            typer.echo("check:      ok" if not problems else "check:      PROBLEMS")
            for p in problems:
                typer.secho(f"  - {p}", fg=typer.colors.RED)
    if problems:
        raise typer.Exit(1)


def translation_stats(settings: Settings, kb) -> dict:  # noqa: ANN001
    """What translates queries in other languages: dictionaries per language and the bridge's English words."""
    from pactkb.index.bridge import bridge_path, bridge_wanted, load_arrays
    from pactkb.index.dictionary import dictionaries_by_language, dictionary_dirs
    from pactkb.index.translate import ENABLE, Translator

    languages = [x.strip() for x in settings.query_languages.split(",") if x.strip() and x.strip() != "en"]
    model = kb.store.model_info()[0] or ""
    words: list[str] = []
    vecs = None
    if bridge_wanted(settings, model):
        words, vecs, _ = load_arrays(bridge_path(kb.store, model))
    apertium = Translator.from_settings(settings).status(languages) if settings.bridge else {}
    return {
        "dictionaries": dictionaries_by_language(dictionary_dirs(settings), languages) if settings.bridge else {},
        "english_words": len(words),
        "nearest_words": bool(vecs is not None and vecs.size),
        "apertium": apertium,
        "apertium_enable": ENABLE,
    }
