"""Domain (page-level) evaluation: crediting judged ranges once, document recall, calibration, CLI."""

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pactkb.cli.main import app
from pactkb.evaluation.domain import Judged, calibrate, credit, evaluate_domain, is_domain_set
from pactkb.index.kb import KnowledgeBase


def test_each_judged_range_is_credited_once_and_only_on_overlap():
    judged = [Judged("a.pdf", 4, 5, 2), Judged("a.pdf", 9, 9, 1), Judged("b.pdf", 1, 1, 2)]
    hits = [("a.pdf", 5, 6), ("a.pdf", 4, 4), ("a.pdf", 8, 10), ("b.pdf", 2, 3), ("c.pdf", 1, 1), ("b.pdf", 1, 1)]
    assert credit(hits, judged) == [0, None, 1, None, None, 2]


def test_calibration_flags_at_most_ten_percent_of_answerable():
    best = {f"a{i}": 0.3 + i * 0.01 for i in range(20)} | {"n1": 0.25, "n2": 0.33, "n3": 0.6}
    c = calibrate(best, {f"a{i}" for i in range(20)}, {"n1", "n2", "n3"})
    assert c["answerable_wrongly_flagged"] <= 2 and c["threshold"] == pytest.approx(0.32)
    assert c["no_answer_flagged"] == 1 and c["false_answer_rate"] == pytest.approx(2 / 3, abs=1e-3)


@pytest.fixture
def domain_set(tmp_path, sample_dir):
    root = tmp_path / "domain"
    root.mkdir()
    queries = [
        {
            "_id": "q1",
            "text": "undeclared cash at border crossings",
            "lang": "en",
            "difficulty": "keyword",
            "split": "dev",
        },
        {
            "_id": "q2",
            "text": "Uprava za sprečavanje pranja novca",
            "lang": "sr",
            "difficulty": "keyword",
            "split": "test",
        },
        {
            "_id": "q3",
            "text": "wildlife trafficking sentencing in Montenegro",
            "lang": "en",
            "difficulty": "no-answer",
            "split": "test",
        },
    ]
    (root / "queries.jsonl").write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in queries), encoding="utf-8")
    (root / "qrels.tsv").write_text(
        "query-id\tfile\tpage-start\tpage-end\tgrade\n"
        "q1\tcft-good-practice-2023.pdf\t4\t4\t2\nq1\tcft-good-practice-2025.pdf\t4\t4\t2\n"
        "q2\tfinansijske-istrage-prirucnik-sr.pdf\t1\t1\t2\n",
        encoding="utf-8",
    )
    return root


def test_domain_evaluation_end_to_end(settings, sample_dir, domain_set):
    assert is_domain_set(domain_set)
    kb = KnowledgeBase(settings)
    kb.indexer.ingest([sample_dir])
    r = evaluate_domain(domain_set, kb, ("lexical",))
    m = r["modes"][0]
    assert r["answerable"] == 2 and r["no_answer"] == 1
    assert m["doc_recall@10"] == 1.0 and m["mrr@10"] == 1.0 and m["ndcg@10"] > 0.9
    assert set(m["by_language"]) == {"en", "sr"} and set(m["by_difficulty"]) == {"keyword"}
    assert {h: v["queries"] for h, v in m["by_split"].items()} == {"dev": 1, "test": 1}
    assert m["by_split"]["dev"]["ci95"] is None  # one query: no interval
    assert r["no_good_answer"]["no_answer_queries"] == 1 and r["split"] == "all"


def test_domain_evaluation_scores_only_the_half_asked_for(settings, sample_dir, domain_set):
    kb = KnowledgeBase(settings)
    kb.indexer.ingest([sample_dir])
    dev = evaluate_domain(domain_set, kb, ("lexical",), split="dev")
    test = evaluate_domain(domain_set, kb, ("lexical",), split="test")
    assert (dev["split"], dev["queries"], dev["answerable"], dev["no_answer"]) == ("dev", 1, 1, 0)
    assert set(dev["per_query"]["lexical"]) == {"q1"} and set(test["per_query"]["lexical"]) == {"q2"}
    assert test["no_answer"] == 1


def test_domain_eval_cli_rejects_an_unknown_half(domain_set, tmp_path, monkeypatch):
    monkeypatch.setenv("PACTKB_MODEL", "fake:64")
    res = CliRunner().invoke(app, ["eval", str(domain_set), "--data", str(tmp_path / "d"), "--split", "train"])
    assert res.exit_code == 2 and "--split 'train'" in res.output and "dev, test" in res.output
    assert not (tmp_path / "d").exists()


def test_domain_eval_cli_names_missing_files(settings, domain_set, tmp_path, monkeypatch):
    monkeypatch.setenv("PACTKB_MODEL", "fake:64")
    monkeypatch.setenv("PACTKB_PARSE_WORKERS", "0")
    res = CliRunner().invoke(app, ["eval", str(domain_set), "--data", str(tmp_path / "empty")])
    assert res.exit_code == 2 and "not in" in res.output


def test_domain_eval_cli_with_corpus(domain_set, sample_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("PACTKB_MODEL", "fake:64")
    monkeypatch.setenv("PACTKB_PARSE_WORKERS", "0")
    res = CliRunner().invoke(
        app,
        [
            "eval",
            str(domain_set),
            "--data",
            str(tmp_path / "d"),
            "--corpus",
            str(sample_dir),
            "--mode",
            "lexical",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["modes"][0]["doc_recall@10"] == 1.0


def test_the_committed_domain_set_is_valid():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, str(root / "evaluation/domain/check_qrels.py")], capture_output=True, text=True, cwd=root
    )
    assert out.returncode == 0, out.stdout + out.stderr
    queries = [
        json.loads(x)
        for x in (root / "evaluation/domain/queries.jsonl").read_text(encoding="utf-8").splitlines()
        if x.strip()
    ]
    assert len(queries) >= 80
    assert sum(q["lang"] in {"sr", "hr", "bs", "sq", "mk"} for q in queries) >= 20
    assert sum(q["difficulty"] == "no-answer" for q in queries) >= 5


def test_cross_lingual_table_sets_native_queries_beside_their_english_originals():
    from pactkb.evaluation.domain import cross_lingual

    queries = {
        "a": {"lang": "sr", "split": "dev", "en": "x"},
        "b": {"lang": "sr", "split": "test", "en": "y"},
        "c": {"lang": "mk", "split": "dev", "en": "z"},
        "e": {"lang": "en", "split": "dev"},
    }
    native = {"hybrid": {"a": {"ndcg@10": 0.2}, "b": {"ndcg@10": 0.4}, "c": {"ndcg@10": 0.0}, "e": {"ndcg@10": 0.9}}}
    english = {"hybrid": {"a": {"ndcg@10": 0.6}, "b": {"ndcg@10": 0.4}, "c": {"ndcg@10": 0.5}}}
    rows = cross_lingual(queries, native, english)["hybrid"]
    assert {k: v for k, v in rows["sr"].items() if not k.endswith("_ci95")} == {
        "queries": 2,
        "native": 0.3,
        "english_original": 0.5,
        "gap": 0.2,
    }
    assert rows["sr"]["native_ci95"] == [0.2, 0.4] and rows["sr"]["gap_ci95"] == [0.0, 0.4]
    assert rows["sr (dev)"]["native"] == 0.2 and rows["sr (test)"]["gap"] == 0.0
    assert rows["sr+hr+bs+sq+mk"]["queries"] == 3
    assert rows["sr+hr+bs+sq+mk"]["native"] == pytest.approx(0.2, abs=1e-4)
    assert rows["en (the English queries)"] == {"queries": 1, "native": 0.9, "native_ci95": None}


def test_every_non_english_domain_query_has_an_english_original_and_a_split():
    from pactkb.evaluation.domain import load

    queries, _ = load(Path(__file__).resolve().parents[2] / "evaluation" / "domain")
    assert all(q.get("split") in ("dev", "test") for q in queries.values())
    foreign = [q for q in queries.values() if q["lang"] != "en"]
    assert len(foreign) == 92 and all(q.get("en") for q in foreign)
    halves = Counter(
        (q["lang"] + ("-cyrillic" if q["lang"] == "sr" and re.search("[\u0400-\u04ff]", q["text"]) else ""), q["split"])
        for q in foreign
    )
    for lang in ("sr", "sr-cyrillic", "hr", "bs", "sq", "mk"):  # at least 15 per user language, halves balanced
        assert (
            halves[(lang, "dev")] + halves[(lang, "test")] >= 15
            and abs(halves[(lang, "dev")] - halves[(lang, "test")]) <= 1
        )


def test_tables_render_results_saved_before_the_half_table_existed():
    from pactkb.evaluation.domain import format_tables

    mode = {
        "mode": "hybrid",
        "ndcg@10": 0.5,
        "doc_recall@10": 0.6,
        "mrr@10": 0.4,
        "latency_p50_ms": 1.0,
        "latency_p95_ms": 2.0,
        "by_language": {"en": {"queries": 2, "ndcg@10": 0.5, "doc_recall@10": 0.6}},
        "by_difficulty": {"hard": {"queries": 2, "ndcg@10": 0.5, "doc_recall@10": 0.6}},
    }
    calibration = calibrate({"a": 0.5, "n": 0.3}, {"a"}, {"n"})
    text = format_tables({"modes": [mode], "no_good_answer": calibration})
    assert "| en | 2 | 0.5000 | 0.6000 |" in text and "| half |" not in text
    halves = {"dev": {"queries": 1, "ndcg@10": 0.7, "doc_recall@10": 1}}
    text = format_tables({"modes": [{**mode, "by_split": halves}], "no_good_answer": calibration})
    assert "| dev | 1 | 0.7000 | 1.0000 |" in text
    assert "95% CI" not in text  # results saved before the intervals existed: no empty column
