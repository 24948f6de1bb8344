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

from filelock import FileLock, Timeout
from tqdm import tqdm

from pactkb.index.encoder import Encoder
from pactkb.index.encoder_factory import encoder_facts
from pactkb.index.store import Store, describe_encoder
from pactkb.index.writer import WRITER_LOCK

log = logging.getLogger(__name__)


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
        previous = tx.prepare_reembed(target)
    if previous is not None and previous != target:
        log.warning("an interrupted re-embedding into %s is discarded", previous.get("name"))
    return store.reembedded_count()


def _embed_batch(store: Store, encoder: Encoder, rows: list[tuple[int, str, str]], batch_size: int) -> int:
    """Encode one batch (each distinct text once) and commit its vectors aside; returns chunks over the token limit."""
    texts = list(dict.fromkeys(text for _, text, _ in rows))
    vecs = dict(zip(texts, encoder.encode(texts, batch_size=batch_size), strict=False))
    tokens = {t: encoder.count_tokens(t) for t in texts}
    with store.transaction() as tx:
        tx.save_reembedded((cid, vecs[text], tokens[text]) for cid, text, _ in rows)
    return sum(tokens[text] > encoder.max_tokens for _, text, _ in rows)


def _publish(store: Store, target: dict, dim: int) -> None:
    """Swap the new vectors in, record the new encoder, log every chunk as changed, drop the aside table: one
    transaction."""
    meta = {
        "model": target["name"],
        "dim": str(dim),
        "precision": target["precision"],
        "weights": target["weights"],
        "encoder_setting": json.dumps(target["setting"]),
    }
    with store.transaction() as tx:
        missing = tx.swap_reembedded(meta)
    if missing:
        raise ReembedError(f"{missing} chunk(s) have no new vector yet; run again to finish")


def drop_other_bridges(store: Store, encoder_name: str) -> None:
    """Delete the cross-lingual bridges (index/bridge.py) of encoders other than this one: stale once the store's
    vectors are this one's (a multilingual encoder's bridge is built at publish)."""
    from pactkb.index.bridge import bridge_path

    keep = bridge_path(store, encoder_name)
    for path in (store.data_dir / "index").glob("bridge-*.npz"):
        if path != keep:
            path.unlink(missing_ok=True)


def reembed(
    store: Store,
    encoder: Encoder,
    batch_size: int = 32,
    step: int = 256,
    progress: bool = False,
    lock_timeout: float = 0,
) -> ReembedSummary:
    """Re-embed every chunk of a store with encoder, resumably, then publish the new vectors atomically."""
    t0 = time.perf_counter()
    source = store.encoder_record()
    lock = FileLock(str(store.data_dir / WRITER_LOCK))
    try:
        lock.acquire(timeout=lock_timeout)
    except Timeout as exc:
        raise ReembedError(
            f"another process is writing to {store.data_dir} (ingest or re-embed); try again later"
        ) from exc
    try:
        target = target_record(encoder)
        total = store.counts()["chunks"]
        if (
            source["name"] == target["name"]
            and source["precision"] in ("", target["precision"])
            and source["weights"] in ("", target["weights"])
            and store.reembed_target() is None
        ):
            return ReembedSummary(source["name"], target["name"], total, 0, 0, 0, time.perf_counter() - t0, False)
        resumed = _prepare_aside(store, target)
        bar = tqdm(total=total, initial=resumed, unit="chunk", desc="re-embed", disable=not progress, file=sys.stderr)
        embedded = over = 0
        last = -1
        while rows := store.chunks_to_reembed(last, step):
            over += _embed_batch(store, encoder, rows, batch_size)
            embedded += len(rows)
            last = rows[-1][0]
            bar.update(len(rows))
        bar.close()
        dim = int(encoder.dim) if total else int(source["dim"] or encoder.dim)
        _publish(store, target, dim)
        drop_other_bridges(store, target["name"])
        log.info("re-embedded %s: %s -> %s", store.data_dir, describe_encoder(source), target["name"])
        return ReembedSummary(
            source["name"], target["name"], total, embedded, resumed, over, time.perf_counter() - t0, True
        )
    finally:
        lock.release()
