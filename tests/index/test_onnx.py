"""The ONNX encoder (on the small English model): int8 close to the torch vectors and never mixed with them in one
index; the optimised fp32 graph equal to torch."""

import numpy as np
import pytest

from pactkb.index.kb import KnowledgeBase
from pactkb.index.onnx_encoder import OnnxEncoder
from pactkb.index.store import ModelMismatchError
from pactkb.settings import ENGLISH_MODEL, Settings


@pytest.mark.model
def test_onnx_int8_matches_torch_and_refuses_mixing(tmp_path, sample_dir, real_encoder):
    settings = Settings(
        data=tmp_path / "data", model=ENGLISH_MODEL, encoder="onnx", cache_dir=tmp_path / "cache", parse_workers=0
    )
    onnx = OnnxEncoder.from_settings(settings)
    assert (
        onnx.name.endswith("@onnx-int8") and onnx.dim == real_encoder.dim and onnx.max_tokens == real_encoder.max_tokens
    )
    texts = [
        "good practice for cash couriers at border crossings",
        "Customs officers should treat undeclared cash above EUR 10 000 as a trigger for a check.",
        "Ransomware incident response training for police investigators",
    ]
    cos = np.sum(onnx.encode(texts) * real_encoder.encode(texts), axis=1)
    assert cos.min() > 0.97
    KnowledgeBase(settings, encoder=onnx).indexer.ingest([sample_dir / "otna-2024-cyber-attacks.pdf"])
    with pytest.raises(ModelMismatchError, match="onnx-int8"):
        KnowledgeBase(settings.model_copy(update={"encoder": "torch"}), encoder=real_encoder).indexer.ingest(
            [sample_dir]
        )


@pytest.mark.model
def test_optimised_fp32_graph_equals_torch_and_e5_prefixes_are_applied(tmp_path, real_encoder):
    from pactkb.index.onnx_encoder import export_dir

    settings = Settings(
        data=tmp_path / "data", model=ENGLISH_MODEL, encoder="onnx", precision="fp32", cache_dir=tmp_path / "cache"
    )
    fp32 = OnnxEncoder.from_settings(settings, "fp32")  # exports fp32 once (attention/LayerNorm fused), no int8
    assert not (export_dir(settings) / "model-int8.onnx").exists()
    assert fp32.name == real_encoder.name  # same vectors as torch: they may share an index
    texts = ["good practice for cash couriers at border crossings", "Ransomware incident response training"]
    assert np.sum(fp32.encode(texts) * real_encoder.encode(texts), axis=1).min() > 0.9999
    prefixed = OnnxEncoder(export_dir(settings), precision="fp32", query_prefix="query: ", passage_prefix="passage: ")
    assert np.allclose(prefixed.encode_queries(texts[:1]), real_encoder.encode(["query: " + texts[0]]), atol=1e-4)
    assert np.allclose(prefixed.encode(texts[:1]), real_encoder.encode(["passage: " + texts[0]]), atol=1e-4)
