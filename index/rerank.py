"""Optional cross-encoder reranking of the top fused hits (any sentence-transformers CrossEncoder path)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from pactkb.index.encoder import ModelLoadError

if TYPE_CHECKING:
    from pactkb.index.results import Hit


class Reranker:
    """Scores (query, passage) pairs with a CrossEncoder and reorders the top hits."""

    def __init__(self, model: str) -> None:
        """Load the cross-encoder once (offline when given a local path)."""
        if Path(model).exists():
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import CrossEncoder

        try:
            self.model = CrossEncoder(model, device="cpu")
        except Exception as exc:
            raise ModelLoadError(f"cannot load reranker {model!r}: {exc}") from exc
        self.name = Path(model).name if Path(model).exists() else model

    def scores(self, query: str, texts: list[str]) -> list[float]:
        """Relevance scores for passages (higher is better)."""
        if not texts:
            return []
        return [float(x) for x in self.model.predict([(query, t) for t in texts], show_progress_bar=False)]

    def rerank(self, query: str, hits: list[Hit], top: int) -> list[Hit]:
        """The top `top` hits reordered by cross-encoder score; the rest follow in fused order."""
        head, tail = hits[:top], hits[top:]
        for h, s in zip(head, self.scores(query, [h.text or "" for h in head]), strict=False):
            h.score = s
        head.sort(key=lambda h: -h.score)
        return head + tail
