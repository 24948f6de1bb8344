"""Mixed-precision dynamic int8 for the query encoder's graph (ONNX Runtime).

ONNX Runtime's dynamic int8 (weights per output channel, activations quantised per tensor on every call) runs one
short query several times cheaper than the fp32 graph, but quantising every layer moves query vectors to cosine 0.997
of full precision. Not every layer is equally sensitive (`python /work/notes/s6/issue18k/sweep.py`-style sweeps:
quantise one kind of MatMul at a time and compare with fp32): `build_mixed_int8` quantises only the kinds named in
`kinds` and keeps the others, and the word embeddings, in float. Node kinds are read from the names the torch export
gives a BERT-style encoder (attention QKV is the fused Attention op of index/onnx_encoder.optimise).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

# 7-bit weights (reduce_range): on a CPU without VNNI (AVX2 only, such as an AMD EPYC of 2026) ONNX Runtime's u8s8
# int8 product saturates its 16-bit sums, and 8-bit weights took a query vector to cosine 0.9935 of full precision
# (0.967 on a random layer); with 7 bits 0.995 and more on both kinds of CPU. The name changed with it, so a graph
# cached with 8-bit weights is rebuilt once.
MIXED_INT8_FILE = "model-int8-query-r7.onnx"
STALE_MIXED_INT8_FILE = "model-int8-query.onnx"  # 8-bit weights: removed when its successor is built
# node kinds of a BERT-style layer, by the names torch.onnx gives them (after attention fusion)
KIND_PATTERNS: dict[str, re.Pattern[str]] = {
    "qkv": re.compile(r"^Attention_\d+$"),
    "attention-output": re.compile(r"/layer\.\d+/attention/output/dense/MatMul$"),
    "ffn-up": re.compile(r"/layer\.\d+/intermediate/dense/MatMul$"),
    "ffn-down": re.compile(r"/layer\.\d+/output/dense/MatMul$"),
}
# what the query graph quantises: every kind of weight except the layers where int8 moved query vectors most
# (multilingual-e5-small, 539 queries: the FFN down projections of layers 4-7 alone took the mean cosine to fp32 from
# 1 to 0.9983; those of layers 0-3 and 8-11 to 0.9997 and 0.99994)
QUERY_INT8_KINDS: tuple[str, ...] = ("qkv", "attention-output", "ffn-up", "ffn-down")
QUERY_FLOAT_LAYERS: dict[str, tuple[int, ...]] = {"ffn-down": (4, 5, 6, 7)}


def node_kind(name: str) -> str | None:
    """Which kind of weight (KIND_PATTERNS key) a graph node applies, None for other nodes."""
    return next((kind for kind, pattern in KIND_PATTERNS.items() if pattern.search(name)), None)


def layer_of(name: str) -> int | None:
    """The transformer layer a node belongs to (fused Attention_N nodes carry it in their suffix)."""
    match = re.search(r"layer\.(\d+)/", name) or re.search(r"^Attention_(\d+)$", name)
    return int(match.group(1)) if match else None


def select_nodes(
    names: Iterable[str], kinds: Iterable[str], float_layers: Mapping[str, Iterable[int]] | None = None
) -> list[str]:
    """The nodes of the given kinds, except those of a kind's layers listed in float_layers."""
    wanted, keep = set(kinds), {kind: set(layers) for kind, layers in (float_layers or {}).items()}
    unknown = (wanted | keep.keys()) - KIND_PATTERNS.keys()
    if unknown:
        raise ValueError(f"unknown node kinds {sorted(unknown)}; known: {sorted(KIND_PATTERNS)}")
    chosen = []
    for name in names:
        kind = node_kind(name)
        if kind in wanted and layer_of(name) not in keep.get(kind, ()):
            chosen.append(name)
    return chosen


def build_mixed_int8(
    source: Path, target: Path, kinds: Iterable[str], float_layers: Mapping[str, Iterable[int]] | None = None
) -> int:
    """Write source's graph to target with the selected MatMul/Attention nodes in dynamic int8 (per-channel weights),
    the rest and the word embeddings in float; returns how many nodes were quantised."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    names = [n.name for n in onnx.load(str(source), load_external_data=False).graph.node]
    chosen = select_nodes(names, kinds, float_layers)
    if not chosen:
        raise ValueError(f"{source.name}: no node of kinds {sorted(kinds)} to quantise")
    tmp = target.with_name(f"{target.name}.tmp{os.getpid()}")
    quantize_dynamic(  # the fused graph's com.microsoft ops defeat shape inference: tensors of unknown type are float
        str(source),
        str(tmp),
        per_channel=True,
        reduce_range=True,
        weight_type=QuantType.QInt8,
        nodes_to_quantize=chosen,
        op_types_to_quantize=["MatMul", "Attention"],
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )
    os.replace(tmp, target)
    return len(chosen)
