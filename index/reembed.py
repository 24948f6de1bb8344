"""Re-embed a store in place with another encoder, without re-parsing its documents.

New vectors are built aside, in a table of the same SQLite database, committed batch by batch: a crash or an
interrupt loses at most one batch, and running again resumes where it stopped (for the same target encoder; another
target starts over). When every chunk has its new vector, one transaction swaps them in, records the new encoder and
logs every chunk as changed, so each process's FAISS index replays to the new vectors (or rebuilds, when the
dimension changed). Ingestion is locked out meanwhile (the writer lock).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import dataclass

import numpy as np
from filelock import FileLock, Timeout
from tqdm import tqdm

from pactkb.index.writer import WRITER_LOCK
from pactkb.index.embed import Encoder, encoder_facts
from pactkb.index.store import Store, describe_encoder, vector_blob

log = logging.getLogger(__name__)
ASIDE = "reembed_vectors"
ASIDE_SCHEMA = f"CREATE TABLE IF NOT EXISTS {ASIDE} (chunk_id INTEGER PRIMARY KEY, vector BLOB NOT NULL, n_tokens INTEGER NOT NULL)"
TARGET_KEY = "reembed_target"


class ReembedError(RuntimeError):
    """The store cannot be re-embedded now (another writer, nothing to do...)."""


@dataclass
class ReembedSummary:
    """What a re-embedding did."""

    source: str | None
    target: str
    chunks: int
    embedded: int
    resumed: int
    over_limit: int
    seconds: float
    published: bool

    def to_dict(self) -> dict:
        """JSON-ready."""
        return dict(self.__dict__)


def target_record(encoder: Encoder) -> dict:
    """The identity a re-embedding writes (its facts' weights computed once)."""
    facts = encoder_facts(encoder)
    return {"name": encoder.name, "precision": facts.precision, "weights": facts.weights(), "setting": facts.setting}


def _prepare_aside(store: Store, target: dict) -> int:
    """Create (or, for another target, reset) the aside table; returns how many chunks it already holds."""
    with store.transaction() as tx:
        tx.execute(ASIDE_SCHEMA)
        previous = store.get_meta(TARGET_KEY)
        if previous is not None and json.loads(previous) != target:
            log.warning("an interrupted re-embedding into %s is discarded", json.loads(previous).get("name"))
            tx.execute(f"DELETE FROM {ASIDE}")
        tx.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (TARGET_KEY, json.dumps(target)))
        tx.execute(f"DELETE FROM {ASIDE} WHERE chunk_id NOT IN (SELECT id FROM chunks)")
    return int(store.conn().execute(f"SELECT count(*) FROM {ASIDE}").fetchone()[0])


def _missing(store: Store, after: int, limit: int) -> list[tuple[int, str, str]]:
    """(id, text, text hash) of chunks without a new vector, in id order after an id."""
    return store.conn().execute(
        f"SELECT c.id, c.text, c.text_hash FROM chunks c LEFT JOIN {ASIDE} a ON a.chunk_id = c.id "
        "WHERE a.chunk_id IS NULL AND c.id > ? ORDER BY c.id LIMIT ?", (after, limit)).fetchall()


def _embed_batch(store: Store, encoder: Encoder, rows: list[tuple[int, str, str]], batch_size: int) -> int:
    """Encode one batch (each distinct text once) and commit its vectors aside; returns chunks over the token limit."""
    texts = list(dict.fromkeys(text for _, text, _ in rows))
    vecs = dict(zip(texts, encoder.encode(texts, batch_size=batch_size)))
    tokens = {t: encoder.count_tokens(t) for t in texts}
    with store.transaction() as tx:
        tx.con.executemany(f"INSERT OR REPLACE INTO {ASIDE} (chunk_id, vector, n_tokens) VALUES (?, ?, ?)",
                           [(cid, vector_blob(vecs[text]), tokens[text]) for cid, text, _ in rows])
    return sum(tokens[text] > encoder.max_tokens for _, text, _ in rows)


def _publish(store: Store, target: dict, dim: int) -> None:
    """Swap the new vectors in, record the new encoder, log every chunk as changed, drop the aside table: one
    transaction."""
    with store.transaction() as tx:
        missing = tx.execute(f"SELECT count(*) FROM chunks WHERE id NOT IN (SELECT chunk_id FROM {ASIDE})").fetchone()[0]
        if missing:
            raise ReembedError(f"{missing} chunk(s) have no new vector yet; run again to finish")
        tx.execute(f"UPDATE chunks SET vector = (SELECT vector FROM {ASIDE} WHERE chunk_id = chunks.id), "
                   f"n_tokens = (SELECT n_tokens FROM {ASIDE} WHERE chunk_id = chunks.id)")
        for op in (-1, 1):  # each process's FAISS index replays: out with the old vector, in with the new
            tx.execute("INSERT INTO index_log (chunk_id, op) SELECT id, ? FROM chunks ORDER BY id", (op,))
        meta = {"model": target["name"], "dim": str(dim), "precision": target["precision"], "weights": target["weights"],
                "encoder_setting": json.dumps(target["setting"])}
        tx.con.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", list(meta.items()))
        tx.execute("DELETE FROM meta WHERE key = ?", (TARGET_KEY,))
        tx.execute(f"DROP TABLE {ASIDE}")


def reembed(store: Store, encoder: Encoder, batch_size: int = 32, step: int = 256, progress: bool = False,
            lock_timeout: float = 0) -> ReembedSummary:
    """Re-embed every chunk of a store with encoder, resumably, then publish the new vectors atomically."""
    t0 = time.perf_counter()
    source = store.encoder_record()
    lock = FileLock(str(store.data_dir / WRITER_LOCK))
    try:
        lock.acquire(timeout=lock_timeout)
    except Timeout as exc:
        raise ReembedError(f"another process is writing to {store.data_dir} (ingest or re-embed); try again later") from exc
    try:
        target = target_record(encoder)
        total = store.counts()["chunks"]
        if source["name"] == target["name"] and source["precision"] in ("", target["precision"]) \
                and source["weights"] in ("", target["weights"]) and store.get_meta(TARGET_KEY) is None:
            return ReembedSummary(source["name"], target["name"], total, 0, 0, 0, time.perf_counter() - t0, False)
        resumed = _prepare_aside(store, target)
        bar = tqdm(total=total, initial=resumed, unit="chunk", desc="re-embed", disable=not progress, file=sys.stderr)
        embedded = over = 0
        last = -1
        while rows := _missing(store, last, step):
            over += _embed_batch(store, encoder, rows, batch_size)
            embedded += len(rows)
            last = rows[-1][0]
            bar.update(len(rows))
        bar.close()
        dim = int(encoder.dim) if total else int(source["dim"] or encoder.dim)
        _publish(store, target, dim)
        log.info("re-embedded %s: %s -> %s", store.data_dir, describe_encoder(source), target["name"])
        return ReembedSummary(source["name"], target["name"], total, embedded, resumed, over, time.perf_counter() - t0, True)
    finally:
        lock.release()
