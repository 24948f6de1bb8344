"""Mixed-precision query graphs (index/query_int8.py): only the chosen kinds of layer become dynamic int8, the others
stay float, and the graph still computes what it did."""

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from pactkb.index.embed import E5_NAME
from pactkb.index.encoder import ModelLoadError
from pactkb.index.encoder_factory import LazyEncoder, encoder_facts, load_encoder, query_kind, query_side
from pactkb.index.onnx_encoder import OnnxMixedInt8Encoder, export_dir
from pactkb.index.query_int8 import (
    MIXED_INT8_FILE,
    QUERY_FLOAT_LAYERS,
    build_mixed_int8,
    layer_of,
    node_kind,
    select_nodes,
)
from pactkb.settings import Settings

UP = "/inner/encoder/layer.0/intermediate/dense/MatMul"
DOWN = "/inner/encoder/layer.0/output/dense/MatMul"
ATTENTION_OUT = "/inner/encoder/layer.3/attention/output/dense/MatMul"


def test_node_kinds_and_layers_follow_the_exported_names():
    assert node_kind(UP) == "ffn-up" and node_kind(DOWN) == "ffn-down"
    assert node_kind(ATTENTION_OUT) == "attention-output" and node_kind("Attention_11") == "qkv"
    assert node_kind("SkipLayerNorm_AddBias_3") is None and node_kind("EmbedLayerNormalization_0") is None
    assert layer_of(ATTENTION_OUT) == 3 and layer_of("Attention_11") == 11 and layer_of("Gelu_AddBias_0") is None
    names = [UP, DOWN, ATTENTION_OUT, "Attention_0", "Attention_3", "EmbedLayerNormalization_0"]
    assert select_nodes(names, ["ffn-up", "qkv"]) == [UP, "Attention_0", "Attention_3"]
    assert select_nodes(names, ["qkv", "attention-output"], {"attention-output": [3]}) == ["Attention_0", "Attention_3"]
    assert select_nodes(names, ["qkv", "ffn-down"], {"qkv": [3], "ffn-down": [0]}) == ["Attention_0"]
    with pytest.raises(ValueError, match="unknown node kinds"):
        select_nodes(names, ["ffn"])


def tiny_ffn(path, names=(UP, DOWN)):
    """x [batch, 16] -> up MatMul [16, 32] -> Relu -> down MatMul [32, 16] -> y, named as the export names them."""
    rng = np.random.default_rng(11)
    up = numpy_helper.from_array(rng.normal(size=(16, 32)).astype(np.float32), "w_up")
    down = numpy_helper.from_array(rng.normal(size=(32, 16)).astype(np.float32), "w_down")
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "w_up"], ["h"], name=names[0]),
            helper.make_node("Relu", ["h"], ["r"], name="relu"),
            helper.make_node("MatMul", ["r", "w_down"], ["y"], name=names[1]),
        ],
        "ffn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 16])],
        [up, down],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def test_only_the_chosen_kind_is_quantised_and_the_graph_computes_the_same(tmp_path):
    import onnxruntime as ort

    source, target = tmp_path / "fp32.onnx", tmp_path / "mixed.onnx"
    tiny_ffn(source)
    assert build_mixed_int8(source, target, ["ffn-up"]) == 1
    model = onnx.load(str(target))
    ops = [n.op_type for n in model.graph.node]
    assert "MatMul" in ops and ops.count("MatMul") == 1  # the down projection stays float
    assert any(op in ("MatMulInteger", "DynamicQuantizeMatMul") for op in ops)
    weights = {t.name: t.data_type for t in model.graph.initializer}
    assert weights["w_down"] == TensorProto.FLOAT and TensorProto.INT8 in weights.values()
    int8 = [numpy_helper.to_array(t) for t in model.graph.initializer if t.data_type == TensorProto.INT8]
    assert int8 and max(int(np.abs(w.astype(np.int16)).max()) for w in int8) <= 64  # 7-bit weights (reduce_range)
    x = np.random.default_rng(5).normal(size=(3, 16)).astype(np.float32)
    expected = ort.InferenceSession(str(source), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    got = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    cos = np.sum(got * expected, axis=1) / np.linalg.norm(got, axis=1) / np.linalg.norm(expected, axis=1)
    assert cos.min() > 0.99 and not np.array_equal(got, expected)  # close, yet really computed in int8


def test_a_graph_without_the_chosen_kinds_is_refused(tmp_path):
    source = tmp_path / "fp32.onnx"
    tiny_ffn(source)
    with pytest.raises(ValueError, match="no node of kinds"):
        build_mixed_int8(source, tmp_path / "mixed.onnx", ["qkv"])
    assert not (tmp_path / "mixed.onnx").exists()


def test_the_setting_selects_the_mixed_graph_for_queries_only():
    s = Settings(precision="fp32")
    assert query_kind(s.model_copy(update={"query_encoder": "int8-mixed"})) == "int8-mixed"
    assert query_kind(s.model_copy(update={"encoder": "torch", "query_encoder": "int8-mixed"})) == "int8-mixed"
    assert query_kind(s.model_copy(update={"model": "fake:8", "query_encoder": "int8-mixed"})) == "passage"
    with pytest.raises(ModelLoadError, match="int8-mixed needs --encoder openvino or torch"):
        query_kind(s.model_copy(update={"encoder": "onnx", "query_encoder": "int8-mixed"}))
    mixed = LazyEncoder(s.model_copy(update={"query_encoder": "int8-mixed"}))
    assert mixed.name == LazyEncoder(s).name and encoder_facts(mixed).setting == encoder_facts(LazyEncoder(s)).setting


def test_without_a_buildable_graph_the_passage_encoder_encodes_queries(tmp_path, caplog):
    settings = Settings(data=tmp_path, cache_dir=tmp_path / "cache", precision="fp32", query_encoder="int8-mixed")
    folder = export_dir(settings)
    folder.mkdir(parents=True)
    tiny_ffn(folder / "model-fp32.onnx", ("first", "second"))  # not a BERT layer: nothing the recipe can quantise
    (folder / "pactkb-onnx.json").write_text("{}")
    assert query_side(settings) is None
    assert "passage encoder encodes queries" in caplog.text and not (folder / MIXED_INT8_FILE).exists()


@pytest.mark.model
def test_mixed_query_vectors_stay_close_to_the_default_encoders_in_every_user_language(tmp_path):
    from tests.index.test_e5_rebuild import SENTENCES

    queries = query_side(Settings(data=tmp_path, precision="fp32", query_encoder="int8-mixed"))
    default = load_encoder(Settings(data=tmp_path, precision="fp32"))
    assert isinstance(queries, OnnxMixedInt8Encoder) and queries.name == default.name == E5_NAME
    graph = onnx.load(str(export_dir(Settings(data=tmp_path)) / MIXED_INT8_FILE), load_external_data=False)
    ops = [n.op_type for n in graph.graph.node]
    assert ops.count("MatMul") == len(QUERY_FLOAT_LAYERS["ffn-down"])  # the sensitive layers stay float
    assert ops.count("QAttention") == 12 and ops.count("MatMulInteger") + ops.count("DynamicQuantizeMatMul") == 32
    for lang, texts in SENTENCES.items():
        cos = np.sum(queries.encode_queries(texts) * default.encode_queries(texts), axis=1)
        assert cos.min() >= 0.995 and cos.max() < 0.99999, (lang, cos)  # close, yet computed in int8
