"""Pooled judging: needs shared across languages, the pool of unjudged top pages, merged grades, the committed set."""

import json
from pathlib import Path

import pytest

from pactkb.evaluation.domain import Judged, load
from pactkb.evaluation.pooling import (
    JUDGMENTS,
    PoolJudgment,
    agreement,
    first_judgments,
    judged_pages,
    main,
    merge,
    need_groups,
    pool,
    qrels_rows,
    read_grades,
    read_judgments,
)

DOMAIN = Path(__file__).resolve().parents[2] / "evaluation" / "domain"


def test_a_need_asked_in_several_languages_is_one_group():
    queries = {
        "d001": {"kind": "vocabulary"},
        "d002": {"kind": "cross-lingual; same information need as d001"},
        "d003": {"kind": "records"},
        "d004": {"kind": "records, Albanian"},
        "d005": {"kind": "other"},
    }
    same = [Judged("a.pdf", 3, 3, 2)]
    qrels = {"d001": [Judged("x.pdf", 1, 1, 2)], "d003": same, "d004": list(same), "d005": [Judged("a.pdf", 3, 3, 1)]}
    groups = need_groups(queries, qrels)
    assert groups == {"d001": "d001", "d002": "d001", "d003": "d003", "d004": "d003", "d005": "d005"}


def test_the_pool_holds_each_runs_unjudged_top_pages_with_who_found_them():
    groups = {"q1": "q1", "q2": "q1", "q3": "q3"}
    runs = {
        "a": {"q1": [("x.pdf", 4, 5), ("y.pdf", 1, 1), ("z.pdf", 9, 9)], "q3": [("y.pdf", 2, 2)]},
        "b": {"q2": [("y.pdf", 1, 1)], "q3": [("y.pdf", 2, 2)]},
    }
    found = pool(runs, groups, judged={("q1", "x.pdf", 4)}, depth=2, skip={"q3"})
    assert found == {("q1", "x.pdf", 5): ["a@1"], ("q1", "y.pdf", 1): ["a@2", "b@1"]}


def test_a_page_gets_the_lowest_grade_any_judge_gave_and_controls_are_not_merged():
    key = {
        "J1": {"group": "q1", "file": "x.pdf", "page": 5, "origin": "pool"},
        "J1b": {"group": "q1", "file": "x.pdf", "page": 5, "origin": "pool"},
        "J2": {"group": "q1", "file": "y.pdf", "page": 1, "origin": "pool"},
        "J3": {"group": "q1", "file": "x.pdf", "page": 4, "origin": "control"},
    }
    out = merge(key, {"J1": 2, "J1b": 1, "J2": 0, "J3": 1}, {"J1": "states the rule"}, 1)
    assert out == [
        PoolJudgment("q1", "x.pdf", 5, 1, (2, 1), 1, "states the rule"),
        PoolJudgment("q1", "y.pdf", 1, 0, (0,), 1, ""),
    ]
    with pytest.raises(ValueError, match="1 item.*J2"):
        merge(key, {"J1": 2, "J1b": 1, "J3": 1}, {}, 1)
    stats = agreement(key, {"J1": 2, "J1b": 1, "J2": 0, "J3": 1}, {("q1", "x.pdf", 4): 2})
    assert stats == {
        "controls": 1,
        "controls_exact": 0,
        "controls_still_relevant": 1,
        "twice": 1,
        "twice_exact": 0,
        "twice_relevance_agrees": 1,
    }


def test_relevant_pooled_pages_reach_every_query_of_the_need_once():
    groups = {"q1": "q1", "q2": "q1", "q3": "q3"}
    qrels = {"q1": [Judged("x.pdf", 4, 6, 2)], "q2": [Judged("x.pdf", 4, 4, 2)], "q3": [Judged("y.pdf", 1, 1, 2)]}
    judgments = [
        PoolJudgment("q1", "x.pdf", 5, 1, (1,), 1, ""),
        PoolJudgment("q1", "z.pdf", 2, 2, (2,), 1, ""),
        PoolJudgment("q1", "z.pdf", 3, 0, (0,), 1, ""),
    ]
    assert qrels_rows(judgments, groups, qrels) == [
        ("q2", "x.pdf", 5, 5, 1),
        ("q1", "z.pdf", 2, 2, 2),
        ("q2", "z.pdf", 2, 2, 2),
    ]


def test_a_judges_file_with_a_bad_grade_is_named(tmp_path):
    (tmp_path / "judgments0.tsv").write_text("J1\t2\tok\nJ2\tyes\tbad\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"judgments0.tsv line 2"):
        read_grades(tmp_path)


def test_merge_folds_a_round_into_the_set_and_a_second_merge_changes_nothing(tmp_path):
    domain = tmp_path / "domain"
    domain.mkdir()
    queries = [
        {"_id": "d001", "text": "cash couriers", "lang": "en", "kind": "k", "split": "dev"},
        {
            "_id": "d002",
            "text": "kuriri gotovine",
            "lang": "hr",
            "kind": "same information need as d001",
            "split": "dev",
            "en": "cash couriers",
        },
    ]
    (domain / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries) + "\n", encoding="utf-8")
    first = "query-id\tfile\tpage-start\tpage-end\tgrade\nd001\ta.pdf\t2\t3\t2\nd002\ta.pdf\t2\t3\t2\n"
    (domain / "qrels.tsv").write_text(first, encoding="utf-8")
    out = tmp_path / "round1"
    out.mkdir()
    key = {
        "J0": {"group": "d001", "file": "b.pdf", "page": 7, "origin": "pool"},
        "J1": {"group": "d001", "file": "b.pdf", "page": 8, "origin": "pool"},
        "J2": {"group": "d001", "file": "a.pdf", "page": 2, "origin": "control"},
    }
    (out / "key.json").write_text(json.dumps(key), encoding="utf-8")
    (out / "judgments0.tsv").write_text("J0\t1\tdefines couriers\nJ1\t0\toff topic\nJ2\t2\tok\n", encoding="utf-8")
    args = ["merge", "--out", str(out), "--round", "1", "--domain", str(domain)]
    assert main(args) == 0
    _, qrels = load(domain)
    assert qrels["d002"][-1] == Judged("b.pdf", 7, 7, 1) and len(qrels["d001"]) == 2
    assert [j.grade for j in read_judgments(domain / JUDGMENTS)] == [1, 0]
    assert first_judgments(domain) == {"d001": [Judged("a.pdf", 2, 3, 2)], "d002": [Judged("a.pdf", 2, 3, 2)]}
    before = (domain / "qrels.tsv").read_text(encoding="utf-8")
    assert main(args) == 0
    assert (domain / "qrels.tsv").read_text(encoding="utf-8") == before
    (out / "judgments0.tsv").write_text("J0\t1\tok\n", encoding="utf-8")
    assert main(args) == 2  # J1, J2 ungraded: named, nothing written


def test_the_committed_pooled_judgments_are_all_in_qrels():
    queries, qrels = load(DOMAIN)
    first = first_judgments(DOMAIN)
    groups = need_groups(queries, first)
    judgments = read_judgments(DOMAIN / JUDGMENTS)
    assert judgments, "the domain set has pooled judgments"
    pooled = qrels_rows(judgments, groups, first)
    have = {(q, r.file, r.start, r.end, r.grade) for q, rs in qrels.items() for r in rs}
    assert set(pooled) <= have
    assert sum(len(rs) for rs in qrels.values()) == sum(len(rs) for rs in first.values()) + len(pooled)
    assert not judged_pages(first, groups) & {(j.group, j.file, j.page) for j in judgments}


def test_summary_groups_scores_by_half_language_and_difficulty():
    from pactkb.evaluation.pooling import summary

    queries = {
        "a": {"split": "test", "lang": "hr", "difficulty": "hard"},
        "b": {"split": "test", "lang": "en", "difficulty": "keyword"},
        "c": {"split": "dev", "lang": "sq", "difficulty": "paraphrase"},
    }
    result = {
        "per_query": {"hybrid": {"a": {"ndcg@10": 0.4}, "b": {"ndcg@10": 0.8}, "c": {"ndcg@10": 0.6}}},
        "per_query_english_original": {"hybrid": {"a": {"ndcg@10": 0.5}, "c": {"ndcg@10": 0.9}}},
    }
    out = summary(result, queries)
    assert out["all"] == 0.6 and out["test"] == 0.6 and out["test hard"] == 0.4 and out["test English"] == 0.8
    assert out["test five languages"] == 0.4 and out["test gap"] == 0.1 and out["dev gap"] == 0.3
    assert out["test hr"] == 0.4 and out["dev"] == 0.6


def test_packets_are_blind_hold_every_item_once_and_a_second_judges_copy(make_pdf):
    from pactkb.evaluation.pooling import write_packets

    pdf = make_pdf("guide.pdf", [["Cash couriers carry currency across borders."], ["Structuring of deposits."]])
    queries = {
        "d001": {"text": "cash couriers", "kind": "note one"},
        "d002": {"text": "kuriri gotovine", "en": "cash couriers", "kind": "same information need as d001"},
        "d003": {"text": "smurfing", "kind": "note three"},
    }
    groups = {"d001": "d001", "d002": "d001", "d003": "d003"}
    items = [("d001", "guide.pdf", 1), ("d003", "guide.pdf", 2)]
    out = pdf.parent.parent / "packets"
    key = write_packets(items, [("d003", "guide.pdf", 1)], queries, groups, pdf.parent, out, 2, 1, "T", 7)
    assert sorted(v["origin"] for v in key.values()) == ["control", "pool", "pool", "pool"]
    assert sum(k.endswith("b") for k in key) == 1
    texts = [(out / f"packet{n}.md").read_text(encoding="utf-8") for n in range(2)]
    both = "".join(texts)
    assert both.count("==== ITEM") == 4 and "Cash couriers carry currency" in both
    assert "Asked by users as: cash couriers || kuriri gotovine" in both
    assert "control" not in both and "pool" not in both  # nothing says where an item came from
    assert json.loads((out / "key.json").read_text(encoding="utf-8")) == key
