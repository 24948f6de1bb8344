"""An OpenVINO encoder: the model's exported, graph-optimised ONNX graph (index/onnx_encoder.py) compiled by OpenVINO
for this CPU, in bfloat16 where the CPU computes it natively (AMX or AVX512-BF16), else in fp32.

On this project's 2-core machine it needs about a third less CPU per passage than the same model in torch bfloat16
and about 2.5x less than torch fp32, with vectors within cosine 0.99999 of fp32 ones
(`python -m pactkb.evaluation.bench.encoders`), so it is the default runtime for passages. Queries go through the same
graph with its weights in int8 (index/weight_int8.py; OpenVinoInt8WeightsEncoder): one short query is bound by reading
the weights, not by arithmetic.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np

from pactkb.index.onnx_encoder import OnnxEncoder, Precision
from pactkb.index.weight_int8 import WEIGHTS_INT8_FILE, compress_weights
from pactkb.settings import Settings

log = logging.getLogger(__name__)
INFERENCE_PRECISION = {"bf16": "bf16", "fp32": "f32"}
# Queries are padded to a multiple of this many tokens (attention mask 0 on the padding, which mean pooling skips):
# the dynamic-shape model then meets a few shapes again and again instead of a new one per query length: 14-23% less
# CPU per query (vectors within cosine 0.99999 of unpadded ones; issue 18). ONNX Runtime pads no further: shape
# changes cost it little, and padding costs it arithmetic.
QUERY_PAD_TOKENS = 16


class OpenVinoEncoder(OnnxEncoder):
    """Encodes with OpenVINO on the CPU; tokenisation, prefixes and pooling as the ONNX encoder."""

    query_pad = QUERY_PAD_TOKENS
    query_shapes: tuple[tuple[int, int], ...] = ()  # query batch shapes given a graph of their own (compiled on use)

    def _load_runtime(self, folder: Path, threads: int | None) -> None:
        """Compile the graph for this CPU at the encoder's precision."""
        import openvino as ov

        if self.precision not in INFERENCE_PRECISION:
            raise ValueError(f"the OpenVINO encoder runs bf16 or fp32, not {self.precision!r}")
        config: dict[str, object] = {
            "INFERENCE_PRECISION_HINT": INFERENCE_PRECISION[self.precision],
            "PERFORMANCE_HINT": "LATENCY",
        }
        if threads:
            config["INFERENCE_NUM_THREADS"] = threads
        self._config = config
        self._core = ov.Core()
        # kept: graphs compiled from it for one query shape share its constants (the fp32 word embeddings, ~400 MB)
        self._graph = self._core.read_model(str(folder / self.graph_file(self.precision)))
        self._compiled = self._core.compile_model(self._graph, "CPU", config)
        self._static: dict[tuple[int, int], Any] = {}  # (texts, tokens) -> the graph compiled for that one shape
        self._compiling = threading.Lock()
        self._local = threading.local()  # an infer request per thread: a compiled model serves threads in parallel

    def compile_query_shapes(self, shapes: tuple[tuple[int, int], ...]) -> None:
        """Compile the graph once more for each query shape (texts x tokens): a dynamic-shape graph re-prepares its
        kernels whenever consecutive calls differ in shape, a static one never does (settings.query_shapes)."""
        import openvino as ov

        with self._compiling:
            for texts, tokens in dict.fromkeys(shapes):  # ~100 MB each (weights in the CPU's layout; embeddings shared)
                if (texts, tokens) not in self._static:
                    model = self._graph.clone()
                    model.reshape({port.get_any_name(): ov.PartialShape([texts, tokens]) for port in model.inputs})
                    self._static[(texts, tokens)] = self._core.compile_model(model, "CPU", self._config)

    def warm_up_queries(self) -> None:
        """Compile the graphs of every query shape now (a service's warm-up) rather than at the first query of each
        (none when a query encoder is set: that one is warmed up instead)."""
        super().warm_up_queries()
        self.compile_query_shapes(self.query_shapes)

    def _request(self, compiled: Any) -> Any:
        """This thread's infer request of a compiled graph."""
        requests = getattr(self._local, "requests", None)
        if requests is None:
            requests = self._local.requests = {}
        request = requests.get(id(compiled))
        if request is None:
            request = requests[id(compiled)] = compiled.create_infer_request()
        return request

    def _run(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        """The last hidden state for one tokenised batch (the dynamic-shape graph)."""
        return np.array(self._request(self._compiled).infer(feeds)[0], dtype=np.float32)

    def _run_query(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        """The last hidden state for one batch of queries: by the graph compiled for its shape if there is one."""
        shape = feeds["input_ids"].shape
        static = self._static.get(shape)
        if static is None and shape in self.query_shapes:  # its first query: compiled now (once)
            self.compile_query_shapes((shape,))
            static = self._static[shape]
        if static is None:
            return self._run(feeds)
        return np.array(self._request(static).infer(feeds)[0], dtype=np.float32)

    def _query_batch(self, texts: list[str]) -> np.ndarray:
        """Pooled, normalised vectors for one batch of queries (padded to a multiple of query_pad tokens)."""
        return self._batch(texts, self.query_pad, self._run_query)

    @staticmethod
    def graph_precision(precision: str) -> Precision:
        """OpenVINO always reads the fp32 graph and computes in the precision it is compiled for."""
        return "fp32"


class OpenVinoInt8WeightsEncoder(OpenVinoEncoder):
    """OpenVINO on the export's weight-only int8 graph (made once beside it): the query encoder. Its vectors are
    within cosine 0.999 of the full-precision model's, so they search passages the other runtimes encoded."""

    @classmethod
    def graph_file(cls, precision: str) -> str:
        """The weight-only int8 graph, whatever precision the arithmetic runs in."""
        return WEIGHTS_INT8_FILE

    @classmethod
    def build(cls, settings: Settings, folder: Path, precision: Precision) -> None:
        """Compress the fp32 export's weights into the int8 graph (exporting the model first if needed)."""
        cls.derive_from_fp32(settings, folder, "compressing weights to int8", compress_weights)
