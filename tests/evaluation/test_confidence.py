"""95% confidence intervals of mean scores by bootstrap over queries (evaluation/metrics.py), and where the domain,
causes and report tables show them."""

from __future__ import annotations

import numpy as np
import pytest

from pactkb.evaluation import report
from pactkb.evaluation.causes import change, change_cell, summary, summary_ci95, table
from pactkb.evaluation.domain import calibrate, cross_lingual, format_tables, interval
from pactkb.evaluation.metrics import ci95, paired_diff_ci95


@pytest.mark.parametrize("seed", range(5))
def test_the_interval_contains_the_mean(seed: int) -> None:
    scores = np.random.default_rng(seed).random(7 + 10 * seed).round(3)
    lo, hi = ci95(scores)
    assert lo <= round(float(scores.mean()), 4) <= hi and lo < hi


def test_the_interval_is_the_same_every_time() -> None:
    scores = [0.0, 0.2, 0.35, 0.5, 1.0, 0.9, 0.0]
    first = ci95(scores)
    ci95([0.1, 0.9, 0.4])  # another interval in between draws from its own generator
    assert ci95(scores) == first == ci95(list(scores))
    assert paired_diff_ci95(scores, scores[::-1]) == paired_diff_ci95(scores, scores[::-1])


def test_a_paired_gap_of_identical_lists_is_zero_and_a_constant_shift_is_exact() -> None:
    scores = [0.1, 0.5, 0.9, 0.3]
    assert paired_diff_ci95(scores, scores) == [0.0, 0.0]
    assert paired_diff_ci95([s + 0.25 for s in scores], scores) == [0.25, 0.25]  # paired: the spread cancels


def test_known_intervals() -> None:
    # one success in four: the resampled mean is 0 with p 0.32 and at most 0.5 with p 0.95, so [0, 0.75]
    assert ci95([0.0, 0.0, 0.0, 1.0]) == [0.0, 0.75]
    # 0.0, 0.1, ..., 0.9: mean 0.45, plug-in standard error 0.0908, so about 0.45 ± 1.96 × 0.0908
    lo, hi = ci95([i / 10 for i in range(10)])
    assert lo == pytest.approx(0.272, abs=0.02) and hi == pytest.approx(0.628, abs=0.02)


def test_no_interval_from_fewer_than_two_queries_nor_from_unpaired_lists() -> None:
    assert ci95([]) is None and ci95([0.7]) is None
    with pytest.raises(ValueError, match="same queries"):
        paired_diff_ci95([0.1, 0.2], [0.1])


def test_cross_lingual_rows_carry_intervals_and_a_paired_gap_interval() -> None:
    queries = {q: {"lang": "sr", "split": "dev", "en": "x"} for q in "abcd"} | {"e": {"lang": "en", "split": "dev"}}
    native = {"hybrid": {q: {"ndcg@10": v} for q, v in zip("abcde", (0.1, 0.5, 0.9, 0.3, 0.8), strict=True)}}
    english = {"hybrid": {q: {"ndcg@10": v + 0.1} for q, v in zip("abcd", (0.1, 0.5, 0.9, 0.3), strict=True)}}
    rows = cross_lingual(queries, native, english)["hybrid"]
    sr = rows["sr"]
    assert sr["gap"] == 0.1 and sr["gap_ci95"] == [0.1, 0.1]  # the same shift on every query: no doubt about it
    assert (
        sr["native_ci95"] == ci95([0.1, 0.5, 0.9, 0.3])
        and sr["english_original_ci95"][0] < 0.6 < sr["english_original_ci95"][1]
    )
    assert rows["en (the English queries)"]["native_ci95"] is None  # one English query
    text = format_tables(
        {
            "modes": [
                {
                    "mode": "hybrid",
                    "ndcg@10": 0.5,
                    "doc_recall@10": 0.6,
                    "mrr@10": 0.4,
                    "latency_p50_ms": 1.0,
                    "latency_p95_ms": 2.0,
                    "by_language": {"sr": {"queries": 4, "ndcg@10": 0.45, "doc_recall@10": 0.6, "ci95": [0.2, 0.7]}},
                }
            ],
            "cross_lingual": {"hybrid": rows},
            "no_good_answer": calibrate({"a": 0.5, "n": 0.3}, {"a"}, {"n"}),
        }
    )
    assert "| language | queries | hybrid nDCG@10 | hybrid 95% CI | hybrid Recall@10 (doc) |" in text
    assert "| sr | 4 | 0.4500 | [0.200, 0.700] | 0.6000 |" in text
    assert "| language | queries | native | 95% CI | English original | 95% CI | gap | 95% CI |" in text
    assert f"| sr | 4 | 0.4500 | {interval(sr['native_ci95'])} |" in text and "| +0.1000 | [+0.100, +0.100] |" in text


def test_the_causes_table_shows_each_rows_change_against_all_off_with_its_interval() -> None:
    queries = {f"d{i}": {"split": "dev", "difficulty": "hard", "lang": "en"} for i in range(6)} | {
        f"t{i}": {"split": "test", "difficulty": "easy", "lang": "sr"} for i in range(6)
    }
    off = {q: 0.3 for q in queries}
    lifted = {q: (0.6 if q.startswith("d") else 0.3 + (0.2 if q == "t0" else 0.0)) for q in queries}
    ch = change(off, lifted, queries)
    assert ch["dev"] == {"change": 0.3, "ci95": [0.3, 0.3]}  # every dev query up by 0.3
    assert ch["test"]["change"] == pytest.approx(0.0333, abs=1e-4) and ch["test"]["ci95"][0] == 0.0  # one of six
    assert change_cell(ch["dev"]) == "+0.3000* [+0.3000, +0.3000]" and "*" not in change_cell(ch["test"])
    assert summary_ci95(lifted, queries)["dev_hard"] == [0.6, 0.6] and summary_ci95(lifted, queries)["test_en"] is None
    res = {
        "off": summary(off, queries),
        "on": summary(lifted, queries),
        "on_change": ch,
        "moved_by_all": {"up": ["d0"], "down": []},
        "causes": [{"cause": "the wrong edition", "setting": "superseded_weight", **summary(lifted, queries),
                    "up": [], "down": [], "change": ch}],
    }  # fmt: skip
    text = table(res)
    head = text.split("\n")[0]
    assert "| dev change vs off (95% CI) | test change vs off (95% CI) |" in head
    assert "| +0.3000* [+0.3000, +0.3000] |" in text.split("\n")[3]
    dev_only = table({**res, "on_change": change(off, {q: lifted[q] for q in off if q[0] == "d"}, queries)})
    assert "dev change vs off" in dev_only  # the rows still carry a test change: both columns
    legacy = table({k: v for k, v in res.items() if k != "on_change"} | {"causes": []})
    assert "change vs off" not in legacy  # results saved before the intervals existed


def test_the_report_shows_the_targets_with_their_intervals(monkeypatch: pytest.MonkeyPatch) -> None:
    queries = {f"t{i}": {"split": "test", "difficulty": "hard", "lang": "en"} for i in range(5)}
    per = {q: v for q, v in zip(queries, (0.2, 0.4, 0.6, 0.8, 1.0), strict=True)}
    saved = {
        "off": summary(per, queries),
        "on": summary(per, queries),
        "on_ci95": summary_ci95(per, queries),
        "on_change": change(per, per, queries),
        "moved_by_all": {"up": [], "down": []},
        "causes": [],
    }
    monkeypatch.setattr(report, "load", lambda name: saved if name == "causes" else None)
    out: list[str] = []
    report.causes_section(out)
    text = "\n".join(out)
    ci = interval(saved["on_ci95"]["test_hard"])
    assert f"hard queries ≥ 0.60 (test half: 0.6 {ci})" in text and "* marks an interval that excludes 0" in text


def test_the_languages_section_shows_the_halves_with_their_intervals(monkeypatch: pytest.MonkeyPatch) -> None:
    queries = {q: {"lang": "sr", "split": "dev" if q < "c" else "test", "en": "x"} for q in "abcd"}
    native = {"hybrid": {q: {"ndcg@10": v} for q, v in zip("abcd", (0.2, 0.6, 0.1, 0.5), strict=True)}}
    english = {"hybrid": {q: {"ndcg@10": v} for q, v in zip("abcd", (0.5, 0.7, 0.4, 0.6), strict=True)}}
    queries["e"], native["hybrid"]["e"] = {"lang": "en", "split": "dev"}, {"ndcg@10": 0.8}
    cl = cross_lingual(queries, native, english)
    monkeypatch.setattr(report, "load", lambda name: {"cross_lingual": cl} if name == "domain" else None)
    out: list[str] = []
    report.languages_section(out)
    dev = cl["hybrid"]["sr+hr+bs+sq+mk (dev)"]
    assert f"| dev (2 q.) | 0.400 {interval(dev['native_ci95'])} | 0.600 " in "\n".join(out)
    assert f"| +0.200 {interval(dev['gap_ci95'], signed=True)} |" in "\n".join(out)


def test_the_test_half_is_also_reported_without_the_queries_marked_seen() -> None:
    """A test query whose rendering was read while fixing translations (`seen` in queries.jsonl) no longer measures
    unseen queries: the five languages' test half gets a row without it, naming what it left out, and the report
    prints that gap beside the test half's."""
    queries = {q: {"lang": "sr", "split": "test", "en": "x"} for q in "abc"} | {"d": {"lang": "mk", "split": "dev"}}
    queries["b"]["seen"] = "its rendering showed a glossary error"
    native = {"hybrid": {q: {"ndcg@10": v} for q, v in zip("abcd", (0.2, 0.9, 0.4, 0.5), strict=True)}}
    english = {"hybrid": {q: {"ndcg@10": v} for q, v in zip("abcd", (0.6, 0.9, 0.6, 0.5), strict=True)}}
    rows = cross_lingual(queries, native, english)["hybrid"]
    unseen = rows["sr+hr+bs+sq+mk (test, unseen)"]
    assert unseen["queries"] == 2 and unseen["left_out"] == ["b"] and unseen["gap"] == pytest.approx(0.3)
    assert rows["sr+hr+bs+sq+mk (test)"]["queries"] == 3 and "sr (test, unseen)" not in rows
    text = report.unseen_gap(unseen)
    assert "(b, field `seen` of queries.jsonl): 0.300" in text and "2 queries" in text
    del queries["b"]["seen"]
    assert "sr+hr+bs+sq+mk (test, unseen)" not in cross_lingual(queries, native, english)["hybrid"]
    assert report.unseen_gap(None) == ""
