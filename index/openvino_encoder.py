"""An OpenVINO encoder: the model's exported, graph-optimised ONNX graph (index/onnx_encoder.py) compiled by OpenVINO
for this CPU, in bfloat16 where the CPU computes it natively (AMX or AVX512-BF16), else in fp32.

On this project's 2-core machine it needs about a third less CPU per passage than the same model in torch bfloat16
and about 2.5x less than torch fp32, with vectors within cosine 0.99999 of fp32 ones
(`python -m pactkb.evaluation.bench.encoders`), so it is the default runtime: passages and queries alike.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from pactkb.index.onnx_encoder import MODEL_FILES, OnnxEncoder, Precision

INFERENCE_PRECISION = {"bf16": "bf16", "fp32": "f32"}


class OpenVinoEncoder(OnnxEncoder):
    """Encodes with OpenVINO on the CPU; tokenisation, prefixes and pooling as the ONNX encoder."""

    def _load_runtime(self, folder: Path, threads: int | None) -> None:
        """Compile the fp32 graph for this CPU at the encoder's precision."""
        import openvino as ov

        if self.precision not in INFERENCE_PRECISION:
            raise ValueError(f"the OpenVINO encoder runs bf16 or fp32, not {self.precision!r}")
        config: dict[str, object] = {
            "INFERENCE_PRECISION_HINT": INFERENCE_PRECISION[self.precision],
            "PERFORMANCE_HINT": "LATENCY",
        }
        if threads:
            config["INFERENCE_NUM_THREADS"] = threads
        core = ov.Core()
        self._compiled = core.compile_model(core.read_model(str(folder / MODEL_FILES["fp32"])), "CPU", config)
        self._local = threading.local()  # an infer request per thread: a compiled model serves threads in parallel

    def _run(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        """The last hidden state for one tokenised batch."""
        request = getattr(self._local, "request", None)
        if request is None:
            request = self._local.request = self._compiled.create_infer_request()
        return np.array(request.infer(feeds)[0], dtype=np.float32)

    @staticmethod
    def graph_precision(precision: str) -> Precision:
        """OpenVINO always reads the fp32 graph and computes in the precision it is compiled for."""
        return "fp32"
