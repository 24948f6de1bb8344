"""An ONNX Runtime encoder: the sentence-transformers model exported once, quantised to int8.

sentence-transformers' own ONNX backend needs `optimum`, which conflicts with the installed
transformers, so this exports the underlying transformer with torch.onnx, quantises it with
onnxruntime's dynamic per-channel QInt8, and reproduces the pooling (mean or CLS) and
normalisation in numpy. The export is cached next to the other caches and reused.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from pathlib import Path

import numpy as np

from pactkb.index.embed import ModelLoadError, encode_by_length, model_identity, resolve_model_path
from pactkb.settings import Settings

log = logging.getLogger(__name__)
ONNX_SUFFIX = "@onnx-int8"


def export_dir(settings: Settings) -> Path:
    """Cache folder of the exported model for the configured model."""
    slug = re.sub(r"[^A-Za-z0-9.]+", "-", model_identity(settings.model)).strip("-")
    return settings.resolved_cache_dir() / "onnx" / slug


def export(model: str, target: Path) -> Path:
    """Export a sentence-transformers model to ONNX, quantise it to int8, and save tokenizer and pooling."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from sentence_transformers import SentenceTransformer

    path = resolve_model_path(model)
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
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    tok = st.tokenizer
    sample = tok(["a short one", "a longer example sentence, so that the export sees padding"], return_tensors="pt", padding=True)
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]
    dynamic = {n: {0: "batch", 1: "seq"} for n in names}
    dynamic["last_hidden_state"] = {0: "batch", 1: "seq"}

    class Wrapper(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module):
            super().__init__()
            self.inner = inner

        def forward(self, *args: torch.Tensor) -> torch.Tensor:
            return self.inner(**dict(zip(names, args))).last_hidden_state

    fp32 = tmp / "model.onnx"
    with torch.no_grad():
        torch.onnx.export(Wrapper(transformer), tuple(sample[n] for n in names), str(fp32), input_names=names,
                          output_names=["last_hidden_state"], dynamic_axes=dynamic, opset_version=17, dynamo=False)
    quantize_dynamic(str(fp32), str(tmp / "model-int8.onnx"), per_channel=True, weight_type=QuantType.QInt8)
    fp32.unlink()
    tok.save_pretrained(str(tmp / "tokenizer"))
    (tmp / "pactkb-onnx.json").write_text(json.dumps({
        "model": model_identity(model), "pooling": pooling, "inputs": names, "dim": int(transformer.config.hidden_size),
        "max_seq_length": int(st.max_seq_length),
    }))
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)
    return target


class OnnxEncoder:
    """Encodes with ONNX Runtime; vectors never mix with the torch model's (its name differs)."""

    def __init__(self, folder: Path, threads: int | None = None):
        """Load an exported model folder."""
        import onnxruntime as ort
        from transformers import AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        cfg = json.loads((folder / "pactkb-onnx.json").read_text())
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(str(folder / "model-int8.onnx"), opts, providers=["CPUExecutionProvider"])
        self.tokenizer = AutoTokenizer.from_pretrained(str(folder / "tokenizer"))
        self.inputs: list[str] = cfg["inputs"]
        self.pooling: str = cfg["pooling"]
        self.dim: int = cfg["dim"]
        self.max_seq_length: int = cfg["max_seq_length"]
        self.name = cfg["model"] + ONNX_SUFFIX
        self.max_tokens = self.max_seq_length - self.tokenizer.num_special_tokens_to_add(pair=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> OnnxEncoder:
        """Load the cached export for the configured model, exporting it first if needed."""
        folder = export_dir(settings)
        if not (folder / "pactkb-onnx.json").exists():
            log.warning("exporting %s to ONNX int8 in %s (one time)", settings.model, folder)
            export(settings.model, folder)
        return cls(folder)

    def count_tokens(self, text: str) -> int:
        """Number of word pieces, without special tokens."""
        return len(self.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])

    def _batch(self, texts: list[str]) -> np.ndarray:
        """Pooled, normalised vectors for one batch."""
        enc = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_seq_length, return_tensors="np")
        feeds = {n: enc[n].astype(np.int64) for n in self.inputs}
        hidden = self.session.run(["last_hidden_state"], feeds)[0]
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            mask = enc["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Queries are encoded like passages (the exported models are symmetric)."""
        return self.encode(texts)

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Normalised embeddings, batched by similar length (less padding)."""
        return encode_by_length(texts, self.dim, batch_size, self._batch)
