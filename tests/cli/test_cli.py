"""The pactkb command: ingest and stats output, exit codes, errors naming the problem."""

import json

import pytest
from typer.testing import CliRunner

from pactkb.cli.main import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("PACTKB_MODEL", "fake:64")
    monkeypatch.setenv("PACTKB_PARSE_WORKERS", "0")
    monkeypatch.setenv("PACTKB_DATA", str(tmp_path / "data"))
    return tmp_path


def test_ingest_json_summary_and_second_run(env, sample_dir):
    res = runner.invoke(app, ["ingest", str(sample_dir), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    for key in (
        "files",
        "indexed",
        "unchanged",
        "removed",
        "failed",
        "chunks",
        "chunks_embedded",
        "pages_ocr",
        "seconds",
    ):
        assert key in out
    assert out["files"] == 9 and out["indexed"] == 9 and out["failed"] == []
    again = json.loads(runner.invoke(app, ["ingest", str(sample_dir), "--json"]).stdout)
    assert again["chunks_embedded"] == 0 and again["unchanged"] == 9


def test_exit_code_is_non_zero_only_when_nothing_could_be_ingested(env, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.pdf").write_bytes(b"not a pdf at all")
    res = runner.invoke(app, ["ingest", str(bad), "--json"])
    assert res.exit_code == 1
    assert "not a PDF" in json.loads(res.stdout)["failed"][0]["error"]
    (bad / "ok.md").write_text("# Guide\n\nSome text about cyber-attacks.", encoding="utf-8")
    assert runner.invoke(app, ["ingest", str(bad), "--json"]).exit_code == 0


def test_bad_flag_values_name_the_flag(env, sample_dir):
    res = runner.invoke(app, ["ingest", str(sample_dir), "--sensitivity", "secret"])
    assert res.exit_code == 2 and "--sensitivity" in res.output


def test_stats_and_check(env, sample_dir):
    runner.invoke(app, ["ingest", str(sample_dir)])
    res = runner.invoke(app, ["stats", "--json", "--check"])
    assert res.exit_code == 0, res.output
    st = json.loads(res.stdout)
    assert st["documents"] == 9 and st["model"] == "fake-hash-64" and st["check"]["ok"]
    assert st["by_language"]["en"] == 6 and st["by_sensitivity"] == {"public": 7, "restricted": 1, "confidential": 1}
    human = runner.invoke(app, ["stats"])
    assert "documents:  9" in human.stdout


def test_check_names_documents_whose_stored_language_no_filter_finds(env, sample_dir):
    import sqlite3

    runner.invoke(app, ["ingest", str(sample_dir)])
    con = sqlite3.connect(env / "data" / "pactkb.sqlite3")  # as a store from before language values were checked
    names = [r[0] for r in con.execute("SELECT source_name FROM documents WHERE language='en' ORDER BY source_name")]
    con.execute("UPDATE documents SET language='SR' WHERE source_name=?", (names[0],))
    con.execute("UPDATE documents SET language='srb' WHERE source_name IN (?, ?)", (names[1], names[2]))
    con.commit()
    con.close()
    res = runner.invoke(app, ["stats", "--json", "--check"])
    assert res.exit_code == 1
    problems = json.loads(res.stdout)["check"]["problems"]
    assert len(problems) == 2 and not json.loads(res.stdout)["check"]["ok"]
    assert problems[0].startswith("1 document(s) with language 'SR', which should be stored as 'sr'")
    assert names[0] in problems[0]
    assert problems[1].startswith("2 document(s) with language 'srb', which names no language")
    assert names[1] in problems[1] and names[2] in problems[1] and "PATCH /documents/{id}" in problems[1]
    human = runner.invoke(app, ["stats", "--check"])
    assert human.exit_code == 1 and "PROBLEMS" in human.stdout and "'srb'" in human.stdout


def test_stats_show_the_pdf_text_extractor_and_ingest_refuses_another_without_reparse(env, make_pdf, monkeypatch):
    pdf = make_pdf("guide.pdf", [["Guidance on cash couriers at border crossings. " * 12]])
    monkeypatch.setenv("PACTKB_PDF_TEXT", "pypdf")
    assert runner.invoke(app, ["ingest", str(pdf)]).exit_code == 0
    assert json.loads(runner.invoke(app, ["stats", "--json"]).stdout)["pdf_text"] == "pypdf"
    monkeypatch.delenv("PACTKB_PDF_TEXT")
    res = runner.invoke(app, ["ingest", str(pdf), "--pdf-text", "pdfium"])
    assert res.exit_code == 1 and "read by pypdf" in res.output and "--reparse" in res.output
    res = runner.invoke(app, ["ingest", str(pdf), "--pdf-text", "pdfium", "--reparse", "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["indexed"] == 1
    monkeypatch.setenv("PACTKB_PDF_TEXT", "pypdf")  # configured unlike the store: stats say how to switch back
    human = runner.invoke(app, ["stats"]).stdout
    assert "PDF text:   pdfium" in human and "--reparse --pdf-text pypdf" in human


def test_stats_show_what_translates_queries(env, sample_dir, monkeypatch):
    from tests.index.test_dictionary import write_dictd

    write_dictd(env / "dict", "freedict-hrv-eng", {"granica": "border"})
    monkeypatch.setenv("PACTKB_DICTIONARIES", str(env / "dict"))
    runner.invoke(app, ["ingest", str(sample_dir)])
    st = json.loads(runner.invoke(app, ["stats", "--json"]).stdout)["query_translation"]
    assert st["dictionaries"] == {
        "sr/hr/bs": ["field.hrv-eng.tsv", "freedict-hrv-eng.index"],  # the field glossary first, then FreeDict
        "sq": ["field.sqi-eng.tsv"],
        "mk": ["field.mkd-eng.tsv"],
    }
    assert st["english_words"] > 50 and st["nearest_words"] is False  # the fake encoder is not multilingual
    text = runner.invoke(app, ["stats"]).stdout
    assert "translate:  dictionaries sr/hr/bs: field.hrv-eng.tsv, freedict-hrv-eng.index; sq: field.sqi-eng.tsv" in text
    monkeypatch.setenv("PACTKB_DICTIONARIES", "")
    only_glossary = {  # pactkb's own field glossaries
        "sr/hr/bs": ["field.hrv-eng.tsv"],
        "sq": ["field.sqi-eng.tsv"],
        "mk": ["field.mkd-eng.tsv"],
    }
    assert (
        json.loads(runner.invoke(app, ["stats", "--json"]).stdout)["query_translation"]["dictionaries"] == only_glossary
    )
    monkeypatch.setenv("PACTKB_FIELD_GLOSSARIES", "false")
    assert json.loads(runner.invoke(app, ["stats", "--json"]).stdout)["query_translation"]["dictionaries"] == {}


def test_model_mismatch_exits_with_the_reason(env, sample_dir, monkeypatch):
    runner.invoke(app, ["ingest", str(sample_dir / "otna-2024-cyber-attacks.pdf")])
    res = runner.invoke(app, ["ingest", str(sample_dir), "--model", "fake:32"])
    assert res.exit_code == 1
    assert "fake-hash-64" in res.output and "cannot be mixed" in res.output


def help_text(*args: str) -> str:
    """A command's --help as a wide terminal shows it."""
    res = runner.invoke(app, [*args, "--help"], terminal_width=200, env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    return res.output


def test_help_shows_defaults_and_environment_variables():
    ingest = help_text("ingest")
    assert "Usage: pactkb ingest [OPTIONS] PATH..." in ingest
    for text in (
        "[env var: PACTKB_DATA] [default: ./data]",
        "[env var: PACTKB_CHUNK_OVERLAP] [default: 32]",
        "[env var: PACTKB_OCR] [default: auto]",
        "[env var: PACTKB_MODEL]",
    ):
        assert text in ingest, text
    serve = help_text("serve")
    assert "[env var: PACTKB_PORT] [default: 8000]" in serve and "[env var: PACTKB_HOST] [default: 127.0.0.1]" in serve
    assert "Usage: pactkb search [OPTIONS] [QUERY]" in help_text("search")
    for out in (ingest, serve, help_text("search"), help_text(), help_text("keys", "create")):
        assert "<bool>" not in out and "{" not in out


def test_filter_names_match_the_api_and_old_names_warn(env, sample_dir):
    assert runner.invoke(app, ["ingest", str(sample_dir), "--json"]).exit_code == 0
    new = runner.invoke(
        app, ["search", "cash couriers", "--json", "--filter", "year=2023-", "--filter", "type=guideline"]
    )
    old = runner.invoke(
        app, ["search", "cash couriers", "--json", "--filter", "year_min=2023", "--filter", "type=guideline"]
    )
    assert new.exit_code == old.exit_code == 0
    assert json.loads(new.stdout)["results"] == json.loads(old.stdout)["results"] != []
    assert json.loads(new.stdout)["total_relation"] == "eq"  # the sample corpus fits in the shared depth
    assert "deprecated" not in new.stderr
    assert "warning: --filter 'year_min' is deprecated" in old.stderr and "year=2020-2025" in old.stderr


def test_an_unknown_language_filter_exits_2_naming_it_and_the_corpus_languages(env, sample_dir):
    assert runner.invoke(app, ["search", "cash", "--filter", "language=srb"]).exit_code == 2  # no store yet: no hint
    assert runner.invoke(app, ["ingest", str(sample_dir), "--json"]).exit_code == 0
    bad = runner.invoke(app, ["search", "cash", "--filter", "language=srb"])
    assert bad.exit_code == 2 and "--filter: filter 'language': unknown language 'srb'" in bad.stderr
    assert "en (English), mk (Macedonian), sq (Albanian), sr (Serbian)" in bad.stderr  # the operator sees all
    typed = runner.invoke(app, ["search", "finansijske istrage", "--json", "--filter", "language=Serbian"])
    assert typed.exit_code == 0 and {h["language"] for h in json.loads(typed.stdout)["results"]} == {"sr"}
    lacking = runner.invoke(app, ["search", "cash", "--json", "--mode", "lexical", "--filter", "language=de"])
    assert lacking.exit_code == 0 and json.loads(lacking.stdout)["results"] == []


def test_unsupported_files_in_a_folder_are_listed_as_skipped(env, tmp_path, capsys):
    folder = tmp_path / "mixed"
    (folder / "sub").mkdir(parents=True)
    (folder / "guide.md").write_text("# Guide\n\nCash couriers at border crossings.", encoding="utf-8")
    (folder / "notes.docx").write_bytes(b"PK\x03\x04 word")
    (folder / "sub" / "scan.tiff").write_bytes(b"II*\x00")
    (folder / ".DS_Store").write_bytes(b"x")
    res = runner.invoke(app, ["ingest", str(folder), "--json"])
    out = json.loads(res.stdout)
    assert res.exit_code == 0 and out["indexed"] == 1
    assert out["skipped"] == [
        {"file": str(folder / "notes.docx"), "reason": "unsupported file type .docx (PDF, .txt, .md)"},
        {"file": str(folder / "sub" / "scan.tiff"), "reason": "unsupported file type .tiff (PDF, .txt, .md)"},
    ]
    (folder / "guide.md").write_text("# Guide\n\nCash couriers at sea ports.", encoding="utf-8")
    text = runner.invoke(app, ["ingest", str(folder)])
    assert "1 indexed" in text.stdout and "2 skipped" in text.stdout
    assert f"skipped: {folder / 'notes.docx'}: unsupported file type .docx" in text.stderr


def test_the_progress_bar_counts_skipped_files(env, tmp_path, capsys):
    from pactkb.index.kb import KnowledgeBase
    from pactkb.settings import Settings

    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "guide.md").write_text("# Guide\n\nCash couriers at border crossings.", encoding="utf-8")
    (folder / "notes.docx").write_bytes(b"PK\x03\x04 word")
    summary = KnowledgeBase(Settings()).indexer.ingest([folder], progress=True)
    assert summary.indexed == 1 and len(summary.skipped) == 1
    assert "1 skipped" in capsys.readouterr().err


def test_page_ranges_are_sorted_unique_and_capped():
    from pactkb.cli.search import page_ranges

    assert page_ranges([3, 14, 5, 11, 6, 6, 5, 3, 4]) == "pp. 3–6, 11, 14"
    assert page_ranges([7]) == "p. 7"
    assert page_ranges(list(range(1, 60, 2)), limit=6) == "pp. 1, 3, 5, 7, 9, 11 and 24 more"


def test_terminal_results_keep_one_line_per_field_and_group_pages_as_ranges(env, sample_dir):
    import re

    assert runner.invoke(app, ["ingest", str(sample_dir), "--json"]).exit_code == 0
    res = runner.invoke(app, ["search", "cash couriers border", "--group", "-k", "5"])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert len([line for line in lines if re.match(r"\d+\. ", line)]) == 5
    for line in lines[1:]:
        assert not line or re.match(r"\d+\. |   \S|Also searched ", line), f"a field spills onto its own line: {line!r}"
    more = [line for line in lines if "more in this document" in line]
    assert more, res.stdout
    for line in more:
        pages = [int(n) for n in re.findall(r"\d+", line.split(":", 1)[1].split(" and ")[0])]
        assert pages == sorted(set(pages)), line


def test_search_json_shows_the_synonyms_searched(env, sample_dir):
    runner.invoke(app, ["ingest", str(sample_dir), "--json"])
    out = json.loads(runner.invoke(app, ["search", "smurfing", "--json", "--mode", "lexical"]).stdout)
    assert "structuring" in out["query_expansion"]
    text = runner.invoke(app, ["search", "smurfing", "--mode", "lexical"]).stdout
    assert "Also searched for: structuring" in text


def test_search_profile_shows_the_time_per_stage(env, sample_dir):
    runner.invoke(app, ["ingest", str(sample_dir), "--json"])
    plain = json.loads(runner.invoke(app, ["search", "cash couriers", "--json"]).stdout)
    assert "timings" not in plain
    out = json.loads(runner.invoke(app, ["search", "cash couriers", "--json", "--profile"]).stdout)
    t = out["timings"]
    assert {"encode", "dense", "lexical", "fusion", "collapse", "snippets", "rows", "total"} <= set(t)
    assert all(v >= 0 for v in t.values()) and t["total"] == out["took_ms"]
    text = runner.invoke(app, ["search", "cash couriers", "--profile"]).stdout
    assert "Stages: " in text and "dense " in text and "(total " in text


def test_the_command_line_imports_evaluation_and_search_only_when_a_command_runs():
    import subprocess
    import sys

    code = (
        "import sys, pactkb.cli.main; "
        "print(sorted({m.split('.')[1] for m in sys.modules if m.startswith('pactkb.') and m.count('.') > 1}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "evaluation" not in out and "index" not in out and "'cli'" in out


def test_terminal_results_name_the_newer_edition(env, sample_dir):
    runner.invoke(app, ["ingest", str(sample_dir), "--json"])
    res = runner.invoke(app, ["search", "undeclared cash couriers", "-k", "5", "--filter", "year=2023"])
    assert res.exit_code == 0, res.output
    assert "superseded by a newer edition: " in res.stdout and "(2025)" in res.stdout, res.stdout
    out = json.loads(
        runner.invoke(app, ["search", "undeclared cash couriers", "--json", "--filter", "year=2023"]).stdout
    )
    assert any(r["superseded_by"] and r["superseded_by"]["year"] == 2025 for r in out["results"])


def test_an_empty_search_says_what_to_try(env, sample_dir):
    runner.invoke(app, ["ingest", str(sample_dir), "--json"])
    filtered = runner.invoke(app, ["search", "zzqx wvvq", "--mode", "lexical", "--filter", "type=booklet"])
    assert filtered.exit_code == 0 and filtered.stdout.startswith("0 result(s)")
    assert "The --filter options are narrowing this search" in filtered.stdout
    plain = runner.invoke(app, ["search", "zzqx wvvq", "--mode", "lexical"]).stdout
    assert "Try other words" in plain and "--filter" not in plain
    total = json.loads(runner.invoke(app, ["search", "cash couriers", "--mode", "lexical", "--json"]).stdout)["total"]
    past = runner.invoke(app, ["search", "cash couriers", "--mode", "lexical", "--offset", str(total)]).stdout
    assert f"the search found {total} result(s); use an --offset below {total}" in past, past
    assert "No passages match" not in runner.invoke(app, ["search", "cash couriers"]).stdout


def test_a_lower_bound_total_reads_as_one():
    from pactkb.cli.search import count_text

    assert count_text(250, "eq") == "250 result(s)"
    assert count_text(250, "gte") == "at least 250 result(s)"


def test_ingest_stores_a_manifest_language_as_its_code_and_warns_of_a_typo(env, make_pdf):
    """The command line sets a language only through a manifest: "Serbian" is stored as sr; "srb" is a warning naming
    the manifest's line and column, the file is still indexed (with its detected language) and the exit code is 0."""
    text = "Financial investigators trace the proceeds of organised crime through bank records and company registers."
    good, typo = make_pdf("good.pdf", [[text]]), make_pdf("typo.pdf", [[text.replace("Financial", "Customs")]])
    manifest = env / "labels.csv"
    manifest.write_text("file,language\ngood.pdf,Serbian\ntypo.pdf,srb\n", encoding="utf-8")
    res = runner.invoke(app, ["ingest", str(good), str(typo), "--manifest", str(manifest)])
    assert res.exit_code == 0 and "2 indexed" in res.stdout, res.output
    assert f"warning: {typo}: labels.csv line 3, column 'language' (typo.pdf): unknown language 'srb'" in res.stderr
    found = runner.invoke(app, ["search", "bank records", "--filter", "language=sr", "--json", "--mode", "lexical"])
    assert found.exit_code == 0, found.output
    assert [(h["file"], h["language"]) for h in json.loads(found.stdout)["results"]] == [("good.pdf", "sr")]


def test_search_json_and_a_batch_line_carry_the_same_fields_with_region_and_sensitivity(env, sample_dir):
    assert runner.invoke(app, ["ingest", str(sample_dir)]).exit_code == 0
    one = json.loads(runner.invoke(app, ["search", "cash couriers", "--json"]).stdout)
    assert {"region", "sensitivity"} <= set(one["results"][0])
    batch = env / "q.jsonl"
    batch.write_text(json.dumps({"_id": "q1", "text": "cash couriers"}) + "\n", encoding="utf-8")
    line = json.loads(runner.invoke(app, ["search", "--queries", str(batch)]).stdout.splitlines()[0])
    assert line["query_id"] == "q1"
    assert set(one) - {"took_ms"} <= set(line) and {"total", "query_translation", "no_good_answer"} <= set(line)
    assert [h["chunk_id"] for h in line["results"]] == [h["chunk_id"] for h in one["results"]]


def test_the_terminal_names_a_passages_region_as_the_search_page_does():
    from pactkb.cli.search import region_names

    assert region_names()["footnote"] == "footnote" and region_names()["contents"] == "table of contents"
    assert set(region_names()) >= {"footnote", "contents", "index", "references", "front"}


def test_a_printed_label_is_shown_only_where_it_differs_from_the_physical_pages():
    from pactkb.cli.search import printed_label

    assert printed_label(4, 4, "2") == " (printed 2)" and printed_label(12, 13, "iv–v") == " (printed iv–v)"
    assert printed_label(39, 40, "39–40") == printed_label(4, 4, "4") == printed_label(4, 5, None) == ""
