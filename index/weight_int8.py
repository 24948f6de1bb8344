"""Weight-only int8 for an exported transformer graph (the query encoder's graph).

A short query is bound by reading the model's weights from memory, not by arithmetic, so storing them in a quarter of
the bytes cuts its encoding time while the arithmetic stays in floating point. `compress_weights` rewrites the
graph-optimised fp32 ONNX export (index/onnx_encoder.py): every constant MatMul and fused Attention weight becomes
uint8 with a scale and zero point per output channel, the word-embedding table uint8 with a scale and zero point per
token row, each decompressed by a DequantizeLinear node. OpenVINO's CPU plugin runs such weights compressed
(decompressing inside its matrix kernels); activations are not quantised, unlike ONNX Runtime's dynamic int8, so the
vectors stay within cosine 0.999 of full-precision ones (`python -m pactkb.evaluation.bench.encoders --queries`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

WEIGHTS_INT8_FILE = "model-int8w.onnx"
# which input of an op holds a weight, and the axis of its output channels (the axis scales run along)
WEIGHT_INPUTS: dict[str, tuple[int, int]] = {"MatMul": (1, 1), "Attention": (1, 1), "EmbedLayerNormalization": (2, 0)}


def quantise_uint8(weights: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Asymmetric uint8 with one (scale, zero point) per slice along `axis` of a 2-D weight: weights ≈ (q - zp) * s."""
    w = np.asarray(weights, dtype=np.float32)
    reduce = 1 - axis
    low = np.minimum(w.min(axis=reduce), 0.0)
    high = np.maximum(w.max(axis=reduce), 0.0)
    scale = ((high - low) / 255.0).astype(np.float32)
    scale[scale == 0] = 1.0
    zero = np.clip(np.round(-low / scale), 0, 255).astype(np.uint8)
    shape = (1, -1) if axis == 1 else (-1, 1)
    q = np.clip(np.round(w / scale.reshape(shape)) + zero.reshape(shape), 0, 255).astype(np.uint8)
    return q, scale, zero


def compress_weights(source: Path, target: Path) -> int:
    """Write source's graph to target with its constant 2-D weights in uint8 behind DequantizeLinear; returns how many
    weights were compressed."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(source))
    graph = model.graph
    initializers = {t.name: t for t in graph.initializer}
    axes: dict[str, int] = {}
    for node in graph.node:
        slot = WEIGHT_INPUTS.get(node.op_type)
        if slot and len(node.input) > slot[0] and node.input[slot[0]] in initializers:
            name = node.input[slot[0]]
            if len(initializers[name].dims) == 2 and axes.get(name, slot[1]) == slot[1]:
                axes[name] = slot[1]
    nodes = []
    for name, axis in axes.items():
        q, scale, zero = quantise_uint8(numpy_helper.to_array(initializers[name]), axis)
        graph.initializer.remove(initializers[name])
        parts = [f"{name}_uint8", f"{name}_scale", f"{name}_zero"]
        graph.initializer.extend(numpy_helper.from_array(a, n) for a, n in zip((q, scale, zero), parts, strict=True))
        nodes.append(helper.make_node("DequantizeLinear", parts, [name], name=f"{name}_dequantize", axis=axis))
    kept = list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes + kept)  # decompressions first: the graph stays topologically sorted
    tmp = target.with_name(f"{target.name}.tmp{os.getpid()}")
    onnx.save(model, str(tmp))
    os.replace(tmp, target)
    return len(axes)
