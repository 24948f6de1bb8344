"""BEIR evaluation on a tiny collection: caching by corpus hash, metrics against hand-computed values."""

import pytest

from pactkb.evaluation.beir import Collection, CollectionError, cache_dir_for, evaluate_collection
from pactkb.evaluation.metrics import evaluate
from pactkb.settings import Settings


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


def test_a_retrained_local_model_gets_its_own_cached_index(tiny_beir, tmp_path):
    model = tmp_path / "my-model"
    model.mkdir()
    (model / "model.safetensors").write_bytes(b"weights v1")
    coll = Collection(tiny_beir, "test")
    s = Settings(model=str(model), cache_dir=tmp_path / "cache")
    first = cache_dir_for(coll, s)
    assert "my-model" in first.name
    (model / "model.safetensors").write_bytes(b"weights v2")  # same name and size, new weights
    assert cache_dir_for(coll, s) != first
    assert cache_dir_for(coll, Settings(model="fake:64", cache_dir=tmp_path / "cache")) == cache_dir_for(
        coll, Settings(model="fake:64", cache_dir=tmp_path / "cache")
    )


def test_evaluation_never_writes_into_a_shared_store(tiny_beir, tmp_path):
    """An operator's PACTKB_DATABASE_URL (here one that cannot even connect) does not reach the evaluation index."""
    s = Settings(
        data=tmp_path / "data",
        model="fake:64",
        parse_workers=0,
        cache_dir=tmp_path / "cache",
        database_url="postgresql://nobody@127.0.0.1:1/production",
    )
    result = evaluate_collection(tiny_beir, s, modes=("lexical",))
    assert result["documents"] == 4
    assert (cache_dir_for(Collection(tiny_beir, "test"), s) / "pactkb.sqlite3").exists()
