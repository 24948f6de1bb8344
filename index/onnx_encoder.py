"""An ONNX Runtime encoder: the sentence-transformers model exported once, graph-optimised, optionally int8.

sentence-transformers' own ONNX backend needs `optimum`, which conflicts with the installed
transformers, so this exports the underlying transformer with torch.onnx, fuses attention, GELU and
LayerNorm with onnxruntime's transformer optimizer (model-fp32.onnx), quantises that graph with dynamic
per-channel QInt8 (model-int8.onnx), and reproduces the pooling (mean or CLS), the model's query/passage
prefixes and normalisation in numpy. The export is cached and reused.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import warnings
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from pactkb.index.embed import (
    MIXED_INT8_SUFFIX,
    ONNX_SUFFIX,
    model_identity,
    prompt_prefixes,
    resolve_model_path,
    weights_identity,
)
from pactkb.index.encoder import Encoder, ModelLoadError, encode_by_length
from pactkb.index.query_int8 import (
    MIXED_INT8_FILE,
    QUERY_FLOAT_LAYERS,
    QUERY_INT8_KINDS,
    STALE_MIXED_INT8_FILE,
    build_mixed_int8,
)
from pactkb.settings import Settings

log = logging.getLogger(__name__)
Precision = Literal["fp32", "bf16", "int8", "int8-mixed"]  # ONNX Runtime runs bf16 on the fp32 graph
MODEL_FILES: dict[str, str] = {"fp32": "model-fp32.onnx", "int8": "model-int8.onnx"}
Runner = Callable[[dict[str, np.ndarray]], np.ndarray]  # a tokenised batch's feeds -> its last hidden state


def export_dir(settings: Settings) -> Path:
    """Cache folder of the exported model for the configured model."""
    slug = re.sub(r"[^A-Za-z0-9.]+", "-", model_identity(settings.model)).strip("-")
    return settings.model_cache_dir() / "onnx" / slug


def optimise(raw: Path, target: Path, heads: int, hidden: int) -> None:
    """Fuse attention, GELU and LayerNorm (onnxruntime's transformer optimizer) into target; the raw graph if that
    fails."""
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        optimize_model(
            str(raw), model_type="bert", num_heads=heads, hidden_size=hidden, opt_level=1
        ).save_model_to_file(str(target))
    except Exception as exc:  # noqa: BLE001 - an unfusable graph still runs unfused
        log.warning("ONNX graph optimisation failed (%s); keeping the plain export", exc)
        shutil.copyfile(raw, target)


def export(model: str, target: Path, cache_root: Path | None = None, int8: bool = True) -> Path:
    """Export a sentence-transformers model to ONNX (optimised fp32, and int8 unless `int8` is off), with tokenizer and
    pooling."""
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from sentence_transformers import SentenceTransformer

    path = resolve_model_path(model, cache_root)
    if path != model or Path(path).exists():
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    st = SentenceTransformer(path, device="cpu", model_kwargs={"attn_implementation": "eager"})
    transformer = st[0].auto_model.eval()
    pooling = "mean"
    for module in st:
        mode = getattr(module, "get_pooling_mode_str", None)
        if mode is not None:
            pooling = mode()
    if pooling not in ("mean", "cls"):
        raise ModelLoadError(f"ONNX encoder supports mean or CLS pooling, not {pooling!r}")
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    tok = st.tokenizer
    sample = tok(
        ["a short one", "a longer example sentence, so that the export sees padding"], return_tensors="pt", padding=True
    )
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]
    dynamic = {n: {0: "batch", 1: "seq"} for n in names}
    dynamic["last_hidden_state"] = {0: "batch", 1: "seq"}

    class Wrapper(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *args: torch.Tensor) -> torch.Tensor:
            return self.inner(**dict(zip(names, args, strict=False))).last_hidden_state

    raw = tmp / "model-raw.onnx"
    with torch.no_grad(), warnings.catch_warnings():  # the tracer's notes concern inputs this export never gets
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Wrapper(transformer),
            tuple(sample[n] for n in names),
            str(raw),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=dynamic,
            opset_version=17,
            dynamo=False,
        )
    cfg = transformer.config
    optimise(raw, tmp / MODEL_FILES["fp32"], int(cfg.num_attention_heads), int(cfg.hidden_size))
    raw.unlink()
    if int8:  # the fused graph's com.microsoft ops defeat shape inference: tensors of unknown type are float
        quantize_dynamic(
            str(tmp / MODEL_FILES["fp32"]),
            str(tmp / MODEL_FILES["int8"]),
            per_channel=True,
            weight_type=QuantType.QInt8,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    tok.save_pretrained(str(tmp / "tokenizer"))
    (tmp / "pactkb-onnx.json").write_text(
        json.dumps(
            {
                "model": model_identity(model),
                "pooling": pooling,
                "inputs": names,
                "dim": int(cfg.hidden_size),
                "max_seq_length": int(st.max_seq_length),
            }
        )
    )
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)
    return target


@lru_cache(maxsize=4)
def load_tokenizer(folder: Path) -> Any:
    """An export's tokenizer, loaded once per process: the passage and query encoders of one export share it (a
    multilingual tokenizer holds about 350 MB)."""
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    return AutoTokenizer.from_pretrained(str(folder))


def onnx_name(model_name: str, precision: Precision) -> str:
    """The encoder identity of an ONNX model: int8 and mixed int8 vectors never mix with full-precision ones; optimised
    fp32 vectors equal the torch model's (to float rounding), so they keep its name."""
    return model_name + {"int8": ONNX_SUFFIX, "int8-mixed": MIXED_INT8_SUFFIX}.get(precision, "")


class OnnxEncoder:
    """Encodes with ONNX Runtime."""

    query_pad = 0  # queries padded to a multiple of this many tokens (0: to the longest of the batch; see OpenVINO's)

    def __init__(
        self,
        folder: Path,
        threads: int | None = None,
        precision: Precision = "int8",
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
    ) -> None:
        """Load an exported model folder."""
        cfg = json.loads((folder / "pactkb-onnx.json").read_text())
        self.precision: Precision = precision
        self.query_side: Encoder | None = None  # another runtime of the same weights for queries (encoder_factory)
        self._load_runtime(folder, threads)
        self.tokenizer = load_tokenizer(folder / "tokenizer")
        self.inputs: list[str] = cfg["inputs"]
        self.pooling: str = cfg["pooling"]
        self.dim: int = cfg["dim"]
        self.max_seq_length: int = cfg["max_seq_length"]
        self.name = onnx_name(cfg["model"], precision)
        self.query_prefix, self.passage_prefix = prompt_prefixes(cfg["model"], query_prefix, passage_prefix)
        specials = self.tokenizer.num_special_tokens_to_add(pair=False)
        self.max_tokens = self.max_seq_length - specials - self.count_tokens(self.passage_prefix)
        self.chunk_tokens = self.max_tokens

    def _load_runtime(self, folder: Path, threads: int | None) -> None:
        """An ONNX Runtime session on the graph of this precision."""
        import onnxruntime as ort

        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(
            str(folder / self.graph_file(self.precision)), opts, providers=["CPUExecutionProvider"]
        )

    def _run(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        """The last hidden state for one tokenised batch."""
        return self.session.run(["last_hidden_state"], feeds)[0]

    @classmethod
    def from_settings(cls, settings: Settings, precision: Precision = "int8", threads: int = 0) -> OnnxEncoder:
        """Load the cached export for the configured model, exporting it first if needed (or if an older export
        lacks this precision); threads: the runtime's threads (0: settings.encoder_threads)."""
        folder = export_dir(settings)
        graph = cls.graph_file(precision)
        legacy = settings.resolved_cache_dir() / "onnx" / folder.name  # exports made before the shared model cache
        if (legacy / "pactkb-onnx.json").exists() and (legacy / graph).exists():
            folder = legacy
        if not (folder / "pactkb-onnx.json").exists() or not (folder / graph).exists():
            from filelock import FileLock

            folder.parent.mkdir(parents=True, exist_ok=True)
            with FileLock(str(folder) + ".lock"):  # one process exports; the others wait and load its export
                if not (folder / "pactkb-onnx.json").exists() or not (folder / graph).exists():
                    cls.build(settings, folder, precision)
        enc = cls(
            folder,
            threads=threads or settings.encoder_threads or None,
            precision=precision,
            query_prefix=settings.query_prefix,
            passage_prefix=settings.passage_prefix,
        )
        enc.weights_hash = lambda: weights_identity(settings)  # type: ignore[method-assign]
        return enc

    @classmethod
    def build(cls, settings: Settings, folder: Path, precision: Precision) -> None:
        """Export the model into folder (called once, under the export lock)."""
        log.warning("exporting %s to ONNX in %s (one time)", settings.model, folder)
        export(settings.model, folder, settings.model_cache_dir(), int8=precision == "int8")

    @classmethod
    def derive_from_fp32(
        cls, settings: Settings, folder: Path, action: str, rewrite: Callable[[Path, Path], object]
    ) -> None:
        """Write this encoder's graph as rewrite(fp32 graph, target), exporting the fp32 graph first if needed."""
        if not (folder / "pactkb-onnx.json").exists() or not (folder / MODEL_FILES["fp32"]).exists():
            OnnxEncoder.build(settings, folder, "fp32")
        log.warning("%s: %s's graph in %s (one time)", action, settings.model, folder)
        rewrite(folder / MODEL_FILES["fp32"], folder / cls.graph_file("fp32"))

    @staticmethod
    def graph_precision(precision: str) -> Precision:
        """Which exported graph a precision runs on (ONNX Runtime: the graph of that precision)."""
        return "int8" if precision == "int8" else "fp32"

    @classmethod
    def graph_file(cls, precision: str) -> str:
        """The file of the exported graph this encoder runs at a precision."""
        return MODEL_FILES[cls.graph_precision(precision)]

    def weights_hash(self) -> str:
        """Unknown for a bare export folder (not compared)."""
        return ""

    def count_tokens(self, text: str) -> int:
        """Number of word pieces, without special tokens."""
        return len(self.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])

    def _batch(self, texts: list[str], pad_to: int | None = None, run: Runner | None = None) -> np.ndarray:
        """Pooled, normalised vectors for one batch, padded to its longest text (rounded up to a multiple of `pad_to`
        tokens when the model's length limit is one too); `run` computes the last hidden state (default _run)."""
        multiple = pad_to if pad_to and self.max_seq_length % pad_to == 0 else None
        enc = self.tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=self.max_seq_length,
            pad_to_multiple_of=multiple,
            return_tensors="np",
        )
        feeds = {n: enc[n].astype(np.int64) for n in self.inputs}
        hidden = (run or self._run)(feeds)
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            mask = enc["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Normalised query vectors (with the model's query prefix, if any), by the query encoder if one is set."""
        if self.query_side is not None:
            return self.query_side.encode_queries(texts)
        return encode_by_length([self.query_prefix + t for t in texts], self.dim, 32, self._query_batch)

    def warm_up_queries(self) -> None:
        """Warm up the query encoder if one is set (ONNX Runtime itself prepares nothing ahead of a query)."""
        if self.query_side is not None:
            self.query_side.warm_up_queries()

    def _query_batch(self, texts: list[str]) -> np.ndarray:
        """Pooled, normalised vectors for one batch of queries (padded to a multiple of query_pad tokens)."""
        return self._batch(texts, self.query_pad)

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Normalised passage vectors (with the passage prefix, if any), batched by similar length (less padding)."""
        return encode_by_length([self.passage_prefix + t for t in texts], self.dim, batch_size, self._batch)


class OnnxMixedInt8Encoder(OnnxEncoder):
    """ONNX Runtime on the export's mixed-precision graph (made once beside it; index/query_int8.py). Only the layers
    whose int8 moves vectors least are quantised. As a query encoder (precision fp32: the passages' name) its vectors
    stay close enough to full precision to search passages the other runtimes encoded; as the passage encoder
    (precision int8-mixed) it has a name of its own, as its passages differ from full precision's."""

    @classmethod
    def graph_file(cls, precision: str) -> str:
        """The mixed int8 graph, whatever precision is asked for."""
        return MIXED_INT8_FILE

    @classmethod
    def build(cls, settings: Settings, folder: Path, precision: Precision) -> None:
        """Quantise the fp32 export's insensitive layers into the mixed graph (exporting the model first if needed)."""
        cls.derive_from_fp32(
            settings,
            folder,
            "quantising to mixed int8",
            lambda source, target: build_mixed_int8(source, target, QUERY_INT8_KINDS, QUERY_FLOAT_LAYERS),
        )
        (folder / STALE_MIXED_INT8_FILE).unlink(missing_ok=True)  # the 8-bit graph this one replaces
