"""The pactkb command: ingest and stats output, exit codes, errors naming the problem."""

import json

import pytest
from typer.testing import CliRunner

from pactkb.api.cli import app

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
    for key in ("files", "indexed", "unchanged", "removed", "failed", "chunks", "chunks_embedded", "pages_ocr", "seconds"):
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


def test_stats_show_what_translates_queries(env, sample_dir, monkeypatch):
    from tests.index.test_dictionary import write_dictd

    write_dictd(env / "dict", "freedict-hrv-eng", {"granica": "border"})
    monkeypatch.setenv("PACTKB_DICTIONARIES", str(env / "dict"))
    runner.invoke(app, ["ingest", str(sample_dir)])
    st = json.loads(runner.invoke(app, ["stats", "--json"]).stdout)["query_translation"]
    assert st["dictionaries"] == {"sr/hr/bs": ["freedict-hrv-eng.index"]}
    assert st["english_words"] > 50 and st["nearest_words"] is False  # the fake encoder is not multilingual
    assert "translate:  dictionaries sr/hr/bs: freedict-hrv-eng.index" in runner.invoke(app, ["stats"]).stdout
    monkeypatch.setenv("PACTKB_DICTIONARIES", "")
    assert json.loads(runner.invoke(app, ["stats", "--json"]).stdout)["query_translation"]["dictionaries"] == {}


def test_model_mismatch_exits_with_the_reason(env, sample_dir, monkeypatch):
    runner.invoke(app, ["ingest", str(sample_dir / "otna-2024-cyber-attacks.pdf")])
    res = runner.invoke(app, ["ingest", str(sample_dir), "--model", "fake:32"])
    assert res.exit_code == 1
    assert "fake-hash-64" in res.output and "cannot be mixed" in res.output


def test_search_json_shows_the_synonyms_searched(env, sample_dir):
    runner.invoke(app, ["ingest", str(sample_dir), "--json"])
    out = json.loads(runner.invoke(app, ["search", "smurfing", "--json", "--mode", "lexical"]).stdout)
    assert "structuring" in out["query_expansion"]
    text = runner.invoke(app, ["search", "smurfing", "--mode", "lexical"]).stdout
    assert "Also searched for: structuring" in text
