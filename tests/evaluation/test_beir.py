"""BEIR evaluation on a tiny collection: caching by corpus hash, metrics against hand-computed values."""

import json

import pytest

from pactkb.evaluation.beir import Collection, CollectionError, cache_dir_for, evaluate_collection
from pactkb.evaluation.metrics import evaluate
from pactkb.settings import Settings


@pytest.fixture
def tiny_beir(tmp_path):
    root = tmp_path / "tiny"
    (root / "qrels").mkdir(parents=True)
    docs = [
        ("d1", "Cash couriers", "Customs officers detect undeclared cash carried by couriers at borders."),
        ("d2", "Virtual assets", "Stablecoin transfers to unhosted wallets are traced with blockchain analytics."),
        ("d3", "Non-profit organisations", "Risk-based outreach to charities avoids disrupting humanitarian aid."),
        ("d4", "Football", "The national football league announced its annual schedule."),
    ]
    with open(root / "corpus.jsonl", "w") as fh:
        for i, t, x in docs:
            fh.write(json.dumps({"_id": i, "title": t, "text": x}) + "\n")
    with open(root / "queries.jsonl", "w") as fh:
        for i, t in [("q1", "undeclared cash at the border"), ("q2", "tracing stablecoin wallets"), ("q3", "charities outreach")]:
            fh.write(json.dumps({"_id": i, "text": t}) + "\n")
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\nq3\td3\t1\n")
    return root


def test_evaluate_collection_scores_and_caches(tiny_beir, tmp_path):
    s = Settings(data=tmp_path / "data", model="fake:64", parse_workers=0, cache_dir=tmp_path / "cache")
    first = evaluate_collection(tiny_beir, s, modes=("hybrid", "dense", "lexical"))
    assert first["documents"] == 4 and first["queries"] == 3 and first["chunks_embedded"] == 4
    lexical = next(m for m in first["modes"] if m["mode"] == "lexical")
    assert lexical["ndcg@10"] == 1.0 and lexical["recall@10"] == 1.0 and lexical["mrr@10"] == 1.0
    second = evaluate_collection(tiny_beir, s, modes=("lexical",))
    assert second["cached"] is True and second["chunks_embedded"] == 4  # reused; reports the original build
    assert cache_dir_for(Collection(tiny_beir, "test"), s).exists()


def test_missing_parts_are_named(tmp_path):
    (tmp_path / "x").mkdir()
    with pytest.raises(CollectionError, match="corpus.jsonl"):
        Collection(tmp_path / "x", "test").validate()


def test_metrics_match_hand_computed_values():
    qrels = {"a": {"d1": 1, "d2": 1}, "b": {"d3": 2}}
    run = {"a": {"d1": 3.0, "x": 2.0, "d2": 1.0}, "b": {"y": 2.0, "d3": 1.0}}
    m = evaluate(qrels, run, ("ndcg@10", "recall@10", "mrr@10"))
    ndcg_a = (1 + 1 / 2) / (1 + 1 / 1.5849625)  # gains at ranks 1 and 3 vs ideal 1 and 2
    ndcg_b = (1 / 1.5849625) / 1  # one relevant doc at rank 2 (ranx uses gain = rel, not 2^rel - 1)
    assert m["ndcg@10"] == pytest.approx((ndcg_a + ndcg_b) / 2, abs=1e-3)
    assert m["recall@10"] == 1.0 and m["mrr@10"] == pytest.approx((1 + 0.5) / 2)
