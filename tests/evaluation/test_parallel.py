"""Parallel questions (evaluation/parallel.py): loading, agreement of a native ranking with the English one, the
per-language summary and the command line on a small store."""

import json

import pytest

from pactkb.evaluation.parallel import (
    K,
    Pair,
    agreement,
    compare,
    kb_ranker,
    load_pairs,
    main,
    summary,
)
from pactkb.evaluation.vocabulary import VocabularyListError
from pactkb.index.kb import KnowledgeBase
from pactkb.settings import Settings

ENGLISH = [("d1", 3, 3), ("d2", 7, 8), ("d3", 1, 1)]


def test_a_list_loads_its_pairs(tmp_path):
    path = tmp_path / "mk.tsv"
    path.write_text(
        "# comment\n\nКако да се пријави сомнителна трансакција?\tHow to report a suspicious transaction?\n"
    )
    [pair] = load_pairs(path)
    assert pair == Pair(
        "mk", "Како да се пријави сомнителна трансакција?", "How to report a suspicious transaction?", 3
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("pranje novca\n", r"hr\.tsv:1: expected 'native<TAB>english'"),
        ("pranje novca\tmoney laundering | laundering\n", r"hr\.tsv:1: one English question expected"),
    ],
)
def test_a_malformed_pair_names_the_file_and_line(tmp_path, line, message):
    path = tmp_path / "hr.tsv"
    path.write_text(line, encoding="utf-8")
    with pytest.raises(VocabularyListError, match=message):
        load_pairs(path)


def test_the_same_ranking_agrees_fully():
    assert agreement(ENGLISH, ENGLISH) == (1.0, True)


def test_a_passage_counts_when_it_overlaps_the_english_pages():
    ndcg, top1 = agreement([("d1", 2, 3), ("d2", 8, 9), ("d3", 1, 1)], ENGLISH)
    assert (ndcg, top1) == (1.0, True)


def test_disjoint_rankings_do_not_agree():
    assert agreement([("d9", 1, 1), ("d1", 4, 4)], ENGLISH) == (0.0, False)  # d1 p.4 is not d1 p.3


def test_order_matters_and_the_english_first_passage_weighs_most():
    swapped, top1 = agreement([ENGLISH[1], ENGLISH[0], ENGLISH[2]], ENGLISH)
    without_first, _ = agreement(ENGLISH[1:], ENGLISH)
    without_last, _ = agreement(ENGLISH[:2], ENGLISH)
    assert not top1 and 0 < without_first < swapped < 1
    assert without_first < without_last < 1


def test_a_passage_repeated_in_the_native_ranking_is_credited_once():
    ndcg, _ = agreement([ENGLISH[0], ENGLISH[0]], ENGLISH[:1])
    assert ndcg == 1.0  # the second copy earns nothing, and nothing is lost for it either


def test_only_the_first_k_passages_are_judged():
    english = [(f"d{n}", 1, 1) for n in range(K + 5)]
    late = [(f"d{n}", 1, 1) for n in range(K, K + 5)]  # the English ranks 11-15: not judged
    assert agreement(late, english) == (0.0, False)


def test_empty_rankings():
    assert agreement([], []) == (1.0, True)
    assert agreement(ENGLISH, []) == (0.0, False)
    assert agreement([], ENGLISH) == (0.0, False)


def test_compare_and_summary_per_language():
    pairs = [Pair("hr", "a", "A", 1), Pair("hr", "b", "B", 2), Pair("mk", "в", "C", 1)]
    rankings = {"a": ENGLISH, "A": ENGLISH, "b": [("d9", 1, 1)], "B": ENGLISH, "в": ENGLISH, "C": ENGLISH}
    rows = compare(pairs, lambda texts: [rankings[t] for t in texts], lambda text, lang: text.upper())
    assert [(r.ndcg, r.top1, r.rendering) for r in rows] == [(1.0, True, "A"), (0.0, False, "B"), (1.0, True, "В")]
    s = summary(rows)
    assert s["hr"] == {"pairs": 2, "agreement": 0.5, "ci95": [0.0, 1.0], "top1": 0.5}
    assert s["mk"]["ci95"] is None and s["all"]["pairs"] == 3 and s["all"]["top1"] == pytest.approx(0.6667)


@pytest.fixture
def small_kb(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "kiosks.txt").write_text("Virtual asset kiosks let customers buy bitcoin for cash.", encoding="utf-8")
    (docs / "smuggling.txt").write_text("Migrant smuggling networks forge travel documents.", encoding="utf-8")
    data = tmp_path / "data"
    KnowledgeBase(Settings(data=data, model="fake:64", parse_workers=0, dictionaries="")).indexer.ingest([docs])
    return data


def test_the_ranker_searches_the_store(small_kb):
    rank = kb_ranker(KnowledgeBase(Settings(data=small_kb, model="fake:64", parse_workers=0, dictionaries="")))
    [kiosks, smuggling] = rank(["bitcoin kiosks", "migrant smuggling"])
    assert kiosks and smuggling and kiosks[0][0] != smuggling[0][0]
    assert agreement(kiosks, kiosks) == (1.0, True) and agreement(smuggling, kiosks)[0] < 1


def test_the_command_line_prints_held_out_aggregates_only(small_kb, tmp_path, monkeypatch, capsys):
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "hr.tsv").write_text("bitcoin kiosci\tbitcoin kiosks\nkrijumčarenje migranata\tmigrant smuggling\n")
    monkeypatch.setenv("PACTKB_MODEL", "fake:64")
    monkeypatch.setenv("PACTKB_DICTIONARIES", "")
    main(["--data", str(small_kb), "--lists", str(lists), "--summary", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"summary"} and out["summary"]["hr"]["pairs"] == 2
    main(["--data", str(small_kb), "--lists", str(lists), "--worst", "1"])
    text = capsys.readouterr().out
    assert "en: " in text and "hr:   2 pairs  agreement" in text


def test_the_command_line_says_when_there_is_nothing_to_compare(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["--data", str(tmp_path), "--lists", str(tmp_path), "--lang", "sq"])
    assert e.value.code == 2 and f"no pairs under {tmp_path} for sq" in capsys.readouterr().err


def test_the_rendering_shown_is_the_detected_languages_and_a_mismatch_is_marked() -> None:
    from types import SimpleNamespace

    from pactkb.evaluation.parallel import search_renderer

    detected = {"Kako se peru pari": "mk", "pranje novca": "hr", "kriptovaluti": None}
    searcher = SimpleNamespace(
        query_language=detected.get,
        translation=lambda text, lang, qvec: SimpleNamespace(text=f"<{lang}> {text}"),
    )
    render = search_renderer(SimpleNamespace(searcher=searcher, encoder=None))
    assert render("pranje novca", "hr") == "<hr> pranje novca"  # as the search rendered it
    assert render("Kako se peru pari", "hr") == "[searched as mk] <mk> Kako se peru pari"
    assert render("kriptovaluti", "mk") == "[searched as language unsure]"
