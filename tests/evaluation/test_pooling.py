"""Pooled judging: needs shared across languages, the pool of unjudged top pages, rounds of grades, the loader."""

import json
from pathlib import Path

import pytest

from pactkb.evaluation.domain import POOL_FILE, DomainSetError, Judged, PoolJudgment, load, read_pool, with_pool
from pactkb.evaluation.pooling import (
    CONTROLS,
    agreement,
    judged_pages,
    main,
    merge,
    need_groups,
    pool,
    read_controls,
    read_grades,
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


def test_a_pages_grade_is_the_lower_median_of_its_judges():
    def grade(*gs: int) -> int:
        return PoolJudgment("q", ("q",), "f.pdf", 1, gs, (1,) * len(gs)).grade

    assert (grade(2), grade(2, 1), grade(0, 1, 1), grade(1, 0, 0), grade(2, 2, 1, 0)) == (2, 1, 1, 0, 1)


KEY = {
    "J1": {"group": "q1", "file": "x.pdf", "page": 5, "origin": "pool"},
    "J1b": {"group": "q1", "file": "x.pdf", "page": 5, "origin": "pool"},
    "J2": {"group": "q1", "file": "y.pdf", "page": 1, "origin": "pool"},
    "J3": {"group": "q1", "file": "x.pdf", "page": 4, "origin": "control"},
}
MEMBERS = {"q1": ["q1", "q2"]}
FOUND = {"q1|x.pdf|5": ["s/hybrid/native@1"], "q1|y.pdf|1": ["s/dense/native@2", "t/lexical/native@4"]}


def test_a_round_adds_new_pages_with_their_need_and_finders_and_leaves_controls_out():
    out = merge(KEY, {"J1": 2, "J1b": 1, "J2": 0, "J3": 1}, {"J1": "states the rule"}, 1, [], MEMBERS, FOUND)
    assert out == [
        PoolJudgment("q1", ("q1", "q2"), "x.pdf", 5, (2, 1), (1, 1), "s/hybrid/native@1", "states the rule"),
        PoolJudgment("q1", ("q1", "q2"), "y.pdf", 1, (0,), (1,), "s/dense/native@2;t/lexical/native@4", ""),
    ]
    assert [j.grade for j in out] == [1, 0]
    assert out[1].found_only_by("s") is False and out[0].found_only_by("s") and not out[0].found_only_by("t")


def test_a_later_round_appends_a_second_opinion_once():
    first = merge(KEY, {"J1": 2, "J1b": 2, "J2": 0, "J3": 1}, {}, 1, [], MEMBERS, FOUND)
    key2 = {"R1": {"group": "q1", "file": "x.pdf", "page": 5, "origin": "pool"}}
    second = merge(key2, {"R1": 0}, {}, 3, first, MEMBERS, {})
    assert second[0].grades == (2, 2, 0) and second[0].rounds == (1, 1, 3) and second[0].grade == 2
    assert merge(key2, {"R1": 0}, {}, 3, second, MEMBERS, {}) == second  # the same round again changes nothing


def test_a_round_with_an_ungraded_or_unknown_item_is_refused():
    with pytest.raises(ValueError, match="1 item.*J2"):
        merge(KEY, {"J1": 2, "J1b": 1, "J3": 1}, {}, 1, [], MEMBERS, FOUND)
    with pytest.raises(ValueError, match="not in key.json.*JX"):
        merge(KEY, {"J1": 2, "J1b": 1, "J2": 0, "J3": 1, "JX": 2}, {}, 1, [], MEMBERS, FOUND)


def test_a_judges_file_with_a_bad_grade_or_an_item_graded_twice_is_named(tmp_path):
    (tmp_path / "judgments0.tsv").write_text("J1\t2\tok\nJ2\tyes\tbad\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"judgments0.tsv line 2"):
        read_grades(tmp_path)
    (tmp_path / "judgments0.tsv").write_text("J1\t2\tok\n", encoding="utf-8")
    (tmp_path / "judgments1.tsv").write_text("J2\t0\tno\nJ1\t1\tagain\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"judgments1.tsv line 2: J1 is graded again \(first at judgments0.tsv"):
        read_grades(tmp_path)


def test_relevant_pooled_pages_reach_every_query_of_the_need_unless_its_own_judgments_cover_them():
    qrels = {"q1": [Judged("x.pdf", 4, 6, 2)], "q2": [Judged("x.pdf", 4, 4, 2)]}
    pooled = [
        PoolJudgment("q1", ("q1", "q2"), "x.pdf", 5, (1,), (1,)),
        PoolJudgment("q1", ("q1", "q2"), "z.pdf", 2, (2, 2), (1, 3)),
        PoolJudgment("q1", ("q1", "q2"), "z.pdf", 3, (0,), (1,)),
    ]
    out = with_pool(qrels, pooled)
    assert out["q1"] == [Judged("x.pdf", 4, 6, 2), Judged("z.pdf", 2, 2, 2)]
    assert out["q2"] == [Judged("x.pdf", 4, 4, 2), Judged("x.pdf", 5, 5, 1), Judged("z.pdf", 2, 2, 2)]
    assert qrels["q2"] == [Judged("x.pdf", 4, 4, 2)]  # the first judgments are not changed


def domain_with_a_round(tmp_path: Path) -> tuple[Path, list[str]]:
    """A two-query domain set and a judged round 1 folder; returns the set and merge's arguments."""
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
    (out / "runs.json").write_text(json.dumps({"d001|b.pdf|7": ["store-a/hybrid/native@2"]}), encoding="utf-8")
    (out / "judgments0.tsv").write_text("J0\t1\tdefines couriers\nJ1\t0\toff topic\nJ2\t2\tok\n", encoding="utf-8")
    return domain, ["merge", "--out", str(out), "--round", "1", "--domain", str(domain)]


def test_merge_keeps_pooled_grades_beside_qrels_and_the_loader_applies_them(tmp_path):
    domain, args = domain_with_a_round(tmp_path)
    qrels_before = (domain / "qrels.tsv").read_text(encoding="utf-8")
    assert main(args) == 0
    assert (domain / "qrels.tsv").read_text(encoding="utf-8") == qrels_before  # never rewritten
    _, qrels = load(domain)
    assert qrels["d002"][-1] == Judged("b.pdf", 7, 7, 1) and qrels["d001"][-1] == Judged("b.pdf", 7, 7, 1)
    assert load(domain, pooled=False)[1] == {"d001": [Judged("a.pdf", 2, 3, 2)], "d002": [Judged("a.pdf", 2, 3, 2)]}
    assert load(domain, pool_without="store-a")[1] == load(domain, pooled=False)[1]  # only store-a found it
    assert load(domain, pool_without="store-b")[1] == qrels
    pooled = read_pool(domain / POOL_FILE)
    assert [(j.queries, j.grade) for j in pooled] == [(("d001", "d002"), 1), (("d001", "d002"), 0)]
    assert read_controls(domain / CONTROLS) == [(1, "d001", "a.pdf", 2, 2, 2)]
    pool_before = (domain / POOL_FILE).read_text(encoding="utf-8")
    assert main(args) == 0  # the same round again changes nothing
    assert (domain / POOL_FILE).read_text(encoding="utf-8") == pool_before
    assert read_controls(domain / CONTROLS) == [(1, "d001", "a.pdf", 2, 2, 2)]


def test_a_hand_judgment_in_qrels_wins_over_a_pooled_grade(tmp_path):
    domain, args = domain_with_a_round(tmp_path)
    assert main(args) == 0
    with open(domain / "qrels.tsv", "a", encoding="utf-8") as fh:
        fh.write("d002\tb.pdf\t7\t7\t2\n")  # a judge re-reads the page for d002 and grades it 2
    _, qrels = load(domain)
    assert [r for r in qrels["d002"] if r.file == "b.pdf"] == [Judged("b.pdf", 7, 7, 2)]
    assert [r for r in qrels["d001"] if r.file == "b.pdf"] == [Judged("b.pdf", 7, 7, 1)]


def test_merge_refuses_an_incomplete_round_naming_an_item_and_writes_nothing(tmp_path, capsys):
    domain, args = domain_with_a_round(tmp_path)
    (tmp_path / "round1" / "judgments0.tsv").write_text("J0\t1\tok\n", encoding="utf-8")
    assert main(args) == 2
    assert "2 item(s) have no grade, e.g. J1" in capsys.readouterr().err
    assert not (domain / POOL_FILE).exists()


def test_a_pooled_judgments_file_with_a_wrong_grade_is_named(tmp_path):
    domain, args = domain_with_a_round(tmp_path)
    assert main(args) == 0
    text = (domain / POOL_FILE).read_text(encoding="utf-8").replace("\t1\t1\t1\t", "\t2\t1\t1\t")
    (domain / POOL_FILE).write_text(text, encoding="utf-8")
    with pytest.raises(DomainSetError, match=r"pool-judgments.tsv line 2: .*lower median"):
        load(domain)


def test_agreement_counts_controls_and_pages_judged_more_than_once_per_round():
    controls = [(1, "q", "a.pdf", 1, 2, 2), (1, "q", "a.pdf", 2, 2, 1), (2, "q", "a.pdf", 3, 1, 0)]
    judgments = [
        PoolJudgment("q", ("q",), "b.pdf", 1, (1, 1), (1, 1)),
        PoolJudgment("q", ("q",), "b.pdf", 2, (2, 1), (1, 3)),
        PoolJudgment("q", ("q",), "b.pdf", 3, (0,), (2,)),
    ]
    out = agreement(controls, judgments)
    assert out["all"] == {
        "controls": 3,
        "controls_same_grade": 1,
        "controls_still_relevant": 2,
        "pages_judged_more_than_once": 2,
        "unanimous": 1,
        "relevance_unanimous": 2,
    }
    assert out["round 2"]["controls"] == 1 and out["round 3"]["pages_judged_more_than_once"] == 1


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


def test_the_committed_pooled_judgments_belong_to_their_needs_and_reach_the_loader():
    queries, first = load(DOMAIN, pooled=False)
    _, qrels = load(DOMAIN)
    groups = need_groups(queries, first)
    judgments = read_pool(DOMAIN / POOL_FILE)
    assert len(judgments) >= 2000 and read_controls(DOMAIN / CONTROLS)
    for j in judgments:
        assert set(j.queries) == {q for q in groups if groups[q] == j.group}
        assert j.found_by and all(q in qrels for q in j.queries)
    assert not set(judged_pages(first, groups)) & {(j.group, j.file, j.page) for j in judgments}
    relevant = [(q, j.file, j.page) for j in judgments if j.grade >= 1 for q in j.queries]
    have = {(q, r.file, p) for q, rs in qrels.items() for r in rs for p in range(r.start, r.end + 1)}
    assert relevant and set(relevant) <= have
    assert sum(map(len, qrels.values())) > sum(map(len, first.values()))
