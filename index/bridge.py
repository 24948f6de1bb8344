"""A cross-lingual bridge for lexical search: query words in the users' languages → English words of the corpus.

BM25 cannot match "krijumčarenje" with "smuggling". With a multilingual encoder, pactkb embeds the vocabulary of the
corpus' English documents once (words in at least `MIN_DF` chunks; kept in <data>/index/bridge-*.npz and extended
incrementally after ingestion) and, for a query in another language, maps each content word to its nearest English
word when the two are close enough. The English words then run as a second BM25 query, fused with the others.
No dictionary or translation model is involved: only the encoder the index already uses.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from pathlib import Path

import numpy as np

from pactkb.index.embed import Encoder
from pactkb.index.fold import STOPWORDS, fold
from pactkb.index.store import Store

MIN_DF = 3
ENGLISH_WORD = re.compile(r"[a-z][a-z\-]{2,}")
QUERY_WORD = re.compile(r"\w{3,}", re.UNICODE)


def bridge_path(store: Store, encoder_name: str) -> Path:
    """Where the bridge of a store and encoder is kept."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", encoder_name).strip("-")
    return store.data_dir / "index" / f"bridge-{slug}.npz"


def english_vocabulary(store: Store, min_df: int = MIN_DF) -> list[str]:
    """Words of the English documents that appear in at least min_df chunks, sorted."""
    df: Counter[str] = Counter()
    con = store.conn()
    for (text,) in con.execute("SELECT c.text FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE d.language = 'en'"):
        df.update(set(ENGLISH_WORD.findall(text.lower())))
    return sorted(w for w, n in df.items() if n >= min_df and w not in STOPWORDS)


def update_bridge(store: Store, encoder: Encoder, batch: int = 256) -> dict[str, int]:
    """Embed the English words the saved bridge lacks (all of them the first time) and save; returns counts."""
    path = bridge_path(store, encoder.name)
    words, vecs = load_arrays(path)
    known = dict(zip(words, range(len(words))))
    vocab = english_vocabulary(store)
    new = [w for w in vocab if w not in known]
    kept = [w for w in vocab if w in known]
    if not new and len(kept) == len(words):
        return {"words": len(words), "embedded": 0}
    parts = [vecs[[known[w] for w in kept]]] if kept else []
    parts += [encoder.encode_queries(new[i : i + batch]) for i in range(0, len(new), batch)]
    words = kept + new
    vecs = np.concatenate(parts).astype(np.float32) if parts else np.zeros((0, encoder.dim), dtype=np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, words=np.array(words, dtype=object), vectors=vecs)
    tmp.replace(path)
    return {"words": len(words), "embedded": len(new)}


def load_arrays(path: Path) -> tuple[list[str], np.ndarray]:
    """The words and vectors of a saved bridge (empty if there is none)."""
    if not path.exists():
        return [], np.zeros((0, 0), dtype=np.float32)
    with np.load(path, allow_pickle=True) as z:
        return [str(w) for w in z["words"]], np.ascontiguousarray(z["vectors"], dtype=np.float32)


class Bridge:
    """Maps query words to English corpus words by the encoder's cosine; reloads when the file changes."""

    def __init__(self, store: Store, encoder: Encoder, min_cosine: float):
        """Nothing is read until the first translation."""
        self.path = bridge_path(store, encoder.name)
        self.encoder = encoder
        self.min_cosine = min_cosine
        self._lock = threading.Lock()
        self._mtime: float | None = None
        self._words: list[str] = []
        self._vecs = np.zeros((0, 0), dtype=np.float32)
        self._index: set[str] = set()
        self._nearest: dict[str, tuple[str, float]] = {}  # word -> its nearest English word and cosine (this bridge)

    def _fresh(self) -> bool:
        """Load the saved bridge if it changed; False when there is none."""
        try:
            mtime = self.path.stat().st_mtime
        except OSError:
            return False
        with self._lock:
            if mtime != self._mtime:
                self._words, self._vecs = load_arrays(self.path)
                self._index = set(self._words)
                self._nearest = {}
                self._mtime = mtime
        return bool(self._words)

    def translate(self, query: str) -> list[str]:
        """English words for the query's content words (words that are already English corpus words stay as they are
        and need no translation: names, acronyms); empty without a bridge."""
        if not self._fresh():
            return []
        words = [w for w in dict.fromkeys(m.lower() for m in QUERY_WORD.findall(query)) if fold(w) not in STOPWORDS]
        todo = [w for w in words if w not in self._index and not w.isdigit()]
        with self._lock:
            words_vecs, nearest = (self._words, self._vecs), self._nearest
        new = [w for w in todo if w not in nearest]
        if new:
            sims = self.encoder.encode_queries(new) @ words_vecs[1].T
            best = np.argmax(sims, axis=1)
            found = {w: (words_vecs[0][j], float(sims[i, j])) for i, (w, j) in enumerate(zip(new, best))}
            with self._lock:
                if len(nearest) > 100_000:
                    nearest.clear()
                nearest.update(found)
        return [nearest[w][0] for w in todo if w in nearest and nearest[w][1] >= self.min_cosine]
