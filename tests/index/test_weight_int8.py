"""Weight-only int8 graphs (index/weight_int8.py): weights become uint8 with a scale and zero point per output channel
behind DequantizeLinear; the graph still computes what it did, in ONNX Runtime and OpenVINO alike."""

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from pactkb.index.weight_int8 import compress_weights, quantise_uint8


@pytest.mark.parametrize("axis", [0, 1])
def test_quantised_weights_are_within_half_a_step_per_channel(axis):
    rng = np.random.default_rng(7)
    w = rng.normal(size=(48, 24)).astype(np.float32) * rng.uniform(0.01, 3.0, size=(1, 24) if axis else (48, 1))
    w[3, 5] = 0.0
    q, scale, zero = quantise_uint8(w, axis)
    shape = (1, -1) if axis else (-1, 1)
    restored = (q.astype(np.float32) - zero.reshape(shape)) * scale.reshape(shape)
    assert q.dtype == np.uint8 and scale.shape == zero.shape == (w.shape[axis],)
    assert np.all(np.abs(restored - w) <= scale.reshape(shape) / 2 + 1e-6)
    assert restored[3, 5] == 0.0  # zero stays exactly zero (padding, masked weights)


def tiny_graph(path):
    """x [batch, 16] -> MatMul by a constant [16, 8] -> + bias -> y."""
    rng = np.random.default_rng(3)
    weight = numpy_helper.from_array(rng.normal(size=(16, 8)).astype(np.float32), "w")
    bias = numpy_helper.from_array(rng.normal(size=(8,)).astype(np.float32), "b")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["h"]), helper.make_node("Add", ["h", "b"], ["y"])],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 8])],
        [weight, bias],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def test_the_rewritten_graph_has_uint8_weights_and_computes_the_same(tmp_path):
    import onnxruntime as ort
    import openvino as ov

    source, target = tmp_path / "fp32.onnx", tmp_path / "int8w.onnx"
    tiny_graph(source)
    assert compress_weights(source, target) == 1
    model = onnx.load(str(target))
    types = {t.name: t.data_type for t in model.graph.initializer}
    assert types["w_uint8"] == TensorProto.UINT8 and "w" not in types and types["b"] == TensorProto.FLOAT
    assert [n.op_type for n in model.graph.node] == ["DequantizeLinear", "MatMul", "Add"]
    x = np.random.default_rng(5).normal(size=(3, 16)).astype(np.float32)
    expected = ort.InferenceSession(str(source), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    got = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    in_openvino = ov.Core().compile_model(str(target), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})({"x": x})[0]
    for out in (got, np.asarray(in_openvino)):
        cos = np.sum(out * expected, axis=1) / np.linalg.norm(out, axis=1) / np.linalg.norm(expected, axis=1)
        assert cos.min() > 0.999 and not np.array_equal(out, expected)  # close, yet really recomputed from int8
