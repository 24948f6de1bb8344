"""FAISS over normalised chunk vectors (inner product), kept in step with the store's change log.

Exact search (IndexIDMap2 over IndexFlatIP) for small stores; above a size threshold an approximate index: HNSW
(the default; IndexIDMap2 over IndexHNSWFlat) or IVF-Flat, its search effort (HNSW's efSearch, IVF's nprobe)
calibrated when it is built to the least that reaches a recall floor against exact search. HNSW cannot remove
vectors: a removed chunk becomes a tombstone (its id in the id map set to -1, which every search's selector
excludes); a change that would take tombstones past a share of the graph loads a published file that reflects
it or builds the graph afresh from the store. Filtering happens inside FAISS with ID selectors; a filtered
approximate search searches proportionally harder (a filter admitting a tenth of the chunks probes ten times as
many IVF lists, or explores a ten times longer HNSW candidate list), and small filtered sets are scored exactly, so
a filter that leaves 3 chunks always returns those 3.
The index is published to disk atomically (write a new file, fsync, rename); a process that starts maps the
newest file into memory (its vectors are shared, through the page cache, by every process that serves the same
data directory) and replays the change log from the file's sequence number; the first change it applies gives the
process its own copy.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
from filelock import FileLock

from pactkb.atomic import temp_beside, write_atomic
from pactkb.index.store import Store

log = logging.getLogger(__name__)
INDEX_DIR = "index"
_FILE = re.compile(r"^dense-(\d+)\.faiss$")
PUBLISH_LOCK = ".publish.lock"
MIN_IVF = 256  # fewer vectors than this always use the exact index
# the calibration's candidates, cheapest first (on synthetic E5 mixtures the floor took 256 of 1,264 lists at 100k)
NPROBES = (4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096)
CALIBRATION_QUERIES = 200
CALIBRATION_MIX = 3  # stored passages averaged into one calibration query
# HNSW's candidate lists, cheapest first (on synthetic E5 mixtures the floor took 768 at 100k and more at 1M)
EF_SEARCHES = (16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096)
MAX_EF = 8192  # the longest HNSW candidate list a filtered search explores
TOMBSTONE = -1  # the id a removed chunk's HNSW entry is given; searches select ids >= 0 only


@dataclass
class AllowedSet:
    """Chunk ids a search may return (None ids = everything) and a cached FAISS selector for them."""

    ids: np.ndarray | None
    selector: faiss.IDSelector | None = None
    _keep: object = None  # keeps the arrays that back the selector alive

    @classmethod
    def everything(cls) -> AllowedSet:
        """No restriction."""
        return cls(ids=None)

    @classmethod
    def of(cls, allowed: np.ndarray, all_ids: np.ndarray) -> AllowedSet:
        """A selector for allowed ids, stored as the smaller of allowed / excluded."""
        allowed = np.ascontiguousarray(allowed, dtype=np.int64)
        if len(allowed) * 2 <= len(all_ids) or len(all_ids) == 0:
            sel = faiss.IDSelectorBatch(allowed)
            return cls(ids=allowed, selector=sel, _keep=allowed)
        excluded = np.ascontiguousarray(np.setdiff1d(all_ids, allowed, assume_unique=True), dtype=np.int64)
        inner = faiss.IDSelectorBatch(excluded)
        sel = faiss.IDSelectorNot(inner)
        return cls(ids=allowed, selector=sel, _keep=(excluded, inner))


class DenseIndex:
    """The process-wide FAISS index for one store."""

    def __init__(
        self,
        store: Store,
        dim: int,
        kind: str = "auto",
        ann_threshold: int = 200_000,
        nprobe: int = 0,
        small_filter: int = 5000,
        recall: float = 0.98,
        *,
        ann: str = "hnsw",
        hnsw: HnswSettings | None = None,
        ivf_threshold: int = 0,
        ivf_lists: float = 4.0,
    ) -> None:
        """Create an empty, unloaded index; call load() before searching (nprobe / efSearch 0: calibrated to
        `recall`); kind 'auto' uses `ann` ('hnsw' or 'ivf'; 'auto': HNSW, and IVF above ivf_threshold vectors) above
        ann_threshold vectors; IVF has ivf_lists * sqrt(n) lists."""
        self.store = store
        self.dim = dim
        self.kind_setting = kind
        self.ann = ann
        self.ann_threshold = ann_threshold
        self.ivf_threshold = ivf_threshold
        self.ivf_lists = ivf_lists
        self.nprobe_setting = nprobe
        self.nprobe = nprobe  # IVF lists probed per unfiltered query (the setting's, or the calibrated one)
        self.hnsw = hnsw or HnswSettings()
        self.ef_search = self.hnsw.ef_search  # HNSW candidate list per unfiltered query (setting or calibrated)
        self.dead = 0  # HNSW tombstones: removed chunks still in the graph, excluded from every search
        self.recall = recall
        self.small_filter = small_filter
        self.index: faiss.Index | None = None
        self.mapped = False  # the index's vectors are a read-only memory map of a published file
        self.kind = "flat"
        self.seq = 0
        self.lock = threading.RLock()
        self.dir = store.data_dir / INDEX_DIR
        self.dir.mkdir(exist_ok=True)

    # -- building ------------------------------------------------------------------------------
    def _flat(self) -> faiss.Index:
        """An empty exact index with explicit ids."""
        return faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))

    def _target(self, n: int) -> str:
        """The structure an index of n vectors should have: 'flat', 'ivf' or 'hnsw'."""
        if self.kind_setting != "auto":
            return self.kind_setting
        if n <= self.ann_threshold:
            return "flat"
        if self.ann != "auto":
            return self.ann
        return "ivf" if self.ivf_threshold and n > self.ivf_threshold else "hnsw"

    def _adopt(self, index: faiss.Index, mapped: bool) -> None:
        """Use a built or loaded index: note its structure and search effort (a setting overrides the file's)."""
        self.index, self.mapped, self.kind, self.dead = index, mapped, index_kind(index), 0
        if self.kind == "ivf":
            self.nprobe = self.nprobe_setting or int(index.nprobe)
            index.nprobe = self.nprobe
        elif self.kind == "hnsw":
            graph = faiss.downcast_index(index.index)
            self.ef_search = self.hnsw.ef_search or int(graph.hnsw.efSearch)
            self.dead = int((faiss.vector_to_array(index.id_map) == TOMBSTONE).sum())

    def build(self, con: sqlite3.Connection | None = None, kind: str | None = None) -> None:
        """(Re)build from every vector in the store at one consistent snapshot."""
        with self.lock, self.store.snapshot() as snap:
            con = con or snap
            seq = self.store.log_seq(con)
            ids_list, vec_list = [], []
            for ids, vecs in self.store.iter_vectors(con=con):
                ids_list.append(ids)
                vec_list.append(vecs)
            ids = np.concatenate(ids_list) if ids_list else np.zeros(0, dtype=np.int64)
            vecs = np.concatenate(vec_list) if vec_list else np.zeros((0, self.dim), dtype=np.float32)
            target = kind or self._target(len(ids))
            if target == "ivf" and len(ids) >= MIN_IVF:
                nlist = ivf_nlist(len(ids), self.ivf_lists)
                index = build_ivf(vecs, ids, self.dim, nlist, nprobe=self.nprobe_setting, recall=self.recall)
            elif target == "hnsw" and len(ids) >= MIN_IVF:
                index = build_hnsw(vecs, ids, self.dim, self.hnsw, self.recall)
            else:
                index = self._flat()
                if len(ids):
                    index.add_with_ids(vecs, ids)
            self._adopt(index, mapped=False)
            self.seq = seq

    def load(self) -> None:
        """Load the newest published file and replay the log; build from the store if there is none."""
        with self.lock:
            path, seq = self._latest_file()
            store_seq = self.store.log_seq()
            if path is not None and seq <= store_seq:
                try:
                    try:
                        index = read_mapped(path)
                    except RuntimeError:
                        if path.exists():
                            raise
                        path, seq = self._latest_file()  # another process published a newer file meanwhile
                        if path is None:
                            raise
                        index = read_mapped(path)
                    if index.d != self.dim:
                        raise ValueError(f"dimension {index.d} != {self.dim}")
                    if isinstance(faiss.downcast_index(index), faiss.IndexIVF):
                        ivf = faiss.downcast_index(index)  # a proxy that does not own the index: keep the owner alive
                        ivf.referenced_objects = [index]
                        index = ivf
                    self._adopt(index, mapped=True)  # the file keeps its calibrated nprobe / efSearch
                    self.seq = seq
                    self.sync()
                    return
                except Exception as exc:  # noqa: BLE001 - a bad file is rebuilt from the store
                    log.warning("rebuilding dense index: cannot use %s (%s)", path, exc)
                    if path is not None:
                        with FileLock(str(self.dir / PUBLISH_LOCK)):
                            path.unlink(missing_ok=True)  # so that the next publish writes a good one
            self.build()

    def _latest_file(self) -> tuple[Path | None, int]:
        """The newest complete published index file and its sequence number."""
        best: tuple[Path | None, int] = (None, -1)
        for p in self.dir.iterdir():
            m = _FILE.match(p.name)
            if m and int(m.group(1)) > best[1]:
                best = (p, int(m.group(1)))
        return best

    # -- keeping in step -----------------------------------------------------------------------
    def sync(self, con: sqlite3.Connection | None = None) -> int:
        """Apply change-log entries newer than this index; returns how many were applied."""
        with self.lock:
            if self.index is None:
                self.build(con)
                return 0
            con = con or self.store.conn()
            current = self.store.log_seq(con)
            if current <= self.seq:
                return 0
            entries = self.store.log_since(self.seq, con)
            net: dict[int, int] = {}
            for _, cid, op in entries:
                net[cid] = op
            # an id removed and added again (a re-embedded chunk) is removed first, so it is never held twice
            removes = np.array(sorted({cid for _, cid, op in entries if op < 0}), dtype=np.int64)
            adds = [c for c, op in net.items() if op > 0]
            if self.kind == "hnsw" and self.dead + len(removes) > self.hnsw.compact * max(self.index.ntotal, 1):
                self._renew(current, con)  # e.g. a re-embedding: every vector out, then in again
                return len(entries)
            self._own()
            if len(removes) and self.kind == "hnsw":
                self._bury(removes)
            elif len(removes):  # IVF's hashtable direct map removes only by an array of ids
                selector = faiss.IDSelectorArray(removes) if self.kind == "ivf" else faiss.IDSelectorBatch(removes)
                self.index.remove_ids(selector)
            if adds:
                vecs = self.store.vectors(adds, con)
                present = [c for c in adds if c in vecs]
                if present:
                    x = np.stack([vecs[c] for c in present]).astype(np.float32)
                    self.index.add_with_ids(x, np.array(present, dtype=np.int64))
            self.seq = current
            return len(entries)

    def _renew(self, current: int, con: sqlite3.Connection) -> None:
        """Replace an HNSW graph that a change would fill with tombstones: by the published file if one reflects the
        store's latest change, else by a graph built afresh from the store."""
        path, seq = self._latest_file()
        if path is not None and seq >= current:
            self.load()
        else:
            self.build(con)

    def _bury(self, removes: np.ndarray) -> None:
        """Turn HNSW entries of removed chunks into tombstones (HNSW cannot remove from its graph)."""
        index = self.index
        if index is None:
            return
        id_map = faiss.vector_to_array(index.id_map)
        hit = np.isin(id_map, removes)
        if hit.any():
            id_map[hit] = TOMBSTONE
            faiss.copy_array_to_vector(id_map, index.id_map)
            index.construct_rev_map()
            self.dead += int(hit.sum())

    def _own(self) -> None:
        """Give this process its own, writable copy of a memory-mapped index (before the first change to it)."""
        if self.mapped and self.index is not None:
            owner = faiss.deserialize_index(faiss.serialize_index(self.index))
            if self.kind == "ivf":
                ivf = faiss.downcast_index(owner)
                ivf.referenced_objects = [owner]
                ivf.nprobe = self.nprobe
                owner = ivf
            self.index, self.mapped = owner, False

    # -- searching -----------------------------------------------------------------------------
    @property
    def ntotal(self) -> int:
        """Vectors in the index (tombstones not counted)."""
        return int(self.index.ntotal) - self.dead if self.index is not None else 0

    def search(
        self, query: np.ndarray, k: int, allowed: AllowedSet, con: sqlite3.Connection | None = None
    ) -> list[tuple[int, float]]:
        """Top-k (chunk id, cosine) among allowed chunks."""
        return self.search_many(query.reshape(1, -1), k, allowed, con)[0]

    def exhaustive(self, allowed: AllowedSet) -> bool:
        """Exact for a flat index, and for a filter small enough to be searched exactly (`small_filter`)."""
        return self.kind == "flat" or (allowed.ids is not None and len(allowed.ids) <= self.small_filter)

    def search_many(
        self, queries: np.ndarray, k: int, allowed: AllowedSet, con: sqlite3.Connection | None = None
    ) -> list[list[tuple[int, float]]]:
        """Top-k (chunk id, cosine) among allowed chunks for each row of `queries`, in one FAISS call (its threads
        search the rows in parallel); each row's list is the one `search` gives for it alone."""
        q = np.ascontiguousarray(queries.reshape(-1, self.dim), dtype=np.float32)
        empty: list[list[tuple[int, float]]] = [[] for _ in range(len(q))]
        with self.lock:
            if self.index is None or self.ntotal == 0:
                return empty
            if allowed.ids is not None and len(allowed.ids) == 0:
                return empty
            if allowed.ids is not None and self.kind != "flat" and len(allowed.ids) <= self.small_filter:
                return self._exact_subset(q, k, allowed.ids, con)
            k = min(k, self.ntotal)
            if self.kind == "hnsw":
                ef = self.filtered_ef(len(allowed.ids)) if allowed.ids is not None else self.ef_search
                live = faiss.IDSelectorRange(0, 2**62)  # not a tombstone (kept alive here for the search)
                sel = allowed.selector
                if self.dead:
                    sel = faiss.IDSelectorAnd(live, sel) if sel is not None else live
                params = faiss.SearchParametersHNSW(sel=sel, efSearch=max(ef, k))
            elif self.kind == "ivf":
                nprobe = self.filtered_nprobe(len(allowed.ids)) if allowed.ids is not None else self.nprobe
                params = (
                    faiss.SearchParametersIVF(sel=allowed.selector, nprobe=nprobe)
                    if allowed.selector
                    else faiss.SearchParametersIVF(nprobe=nprobe)
                )
            else:
                params = faiss.SearchParameters(sel=allowed.selector) if allowed.selector else None
            scores, ids = self.index.search(q, k, params=params)
        return [
            [(int(i), float(s)) for i, s in zip(row_ids, row_scores, strict=False) if i >= 0]
            for row_ids, row_scores in zip(ids, scores, strict=True)
        ]

    def filtered_nprobe(self, allowed: int) -> int:
        """Lists to probe when `allowed` of the chunks may be returned: as many more as the filter is selective, so
        the filtered search scores about as many admissible vectors as an unfiltered one (at most every list)."""
        if self.index is None:
            return self.nprobe
        share = max(allowed, 1) / max(self.index.ntotal, 1)
        return int(min(self.index.nlist, math.ceil(self.nprobe / min(share, 1.0))))

    def filtered_ef(self, allowed: int) -> int:
        """HNSW candidate list when `allowed` of the chunks may be returned: as much longer as the filter is
        selective (at most MAX_EF)."""
        share = max(allowed, 1) / max(self.ntotal, 1)
        return int(min(MAX_EF, max(self.ef_search, math.ceil(self.ef_search / min(share, 1.0)))))

    def _exact_subset(
        self, q: np.ndarray, k: int, ids: np.ndarray, con: sqlite3.Connection | None
    ) -> list[list[tuple[int, float]]]:
        """Exact scores over a small set of chunks read from the store, for each query row."""
        vecs = self.store.vectors([int(i) for i in ids], con)
        if not vecs:
            return [[] for _ in range(len(q))]
        keys = np.fromiter(vecs.keys(), dtype=np.int64)
        mat = np.stack([vecs[int(i)] for i in keys])
        out = []
        for row in q:
            scores = mat @ row
            top = np.argsort(-scores)[:k]
            out.append([(int(keys[i]), float(scores[i])) for i in top])
        return out

    def reconstruct(self, chunk_id: int) -> np.ndarray | None:
        """A stored vector from the index (None if absent)."""
        with self.lock:
            try:
                return self.index.reconstruct(int(chunk_id)) if self.index is not None else None
            except RuntimeError:
                return None

    def ids(self) -> np.ndarray:
        """All ids currently in the index."""
        with self.lock:
            if self.index is None:
                return np.zeros(0, dtype=np.int64)
            if self.kind != "ivf":
                id_map = faiss.vector_to_array(self.index.id_map).astype(np.int64)
                return id_map[id_map != TOMBSTONE]
            out = []
            invlists = self.index.invlists
            for lst in range(self.index.nlist):
                n = invlists.list_size(lst)
                if n:
                    out.append(faiss.rev_swig_ptr(invlists.get_ids(lst), n).copy())
            return np.sort(np.concatenate(out)) if out else np.zeros(0, dtype=np.int64)

    # -- publishing ----------------------------------------------------------------------------
    def publish(self) -> Path:
        """Write the index atomically as dense-<seq>.faiss (converting to an approximate index if it grew large) and
        drop older files.

        Several processes (server workers) may publish at once: a file lock serialises them, a file for the same state
        is not written twice, and only then are older files and leftovers of crashed writers removed."""
        with self.lock, FileLock(str(self.dir / PUBLISH_LOCK)):
            self.sync()
            target = self._target(self.ntotal)
            if self.kind != target and target != "flat" and self.ntotal >= MIN_IVF:
                self.build(kind=target)  # grown past a threshold: exact to approximate, or HNSW to IVF
            final = self.dir / f"dense-{self.seq}.faiss"
            if not final.exists():  # else another process already published this very state
                tmp = temp_beside(final)
                faiss.write_index(self.index, str(tmp))
                with open(tmp, "rb") as fh:
                    os.fsync(fh.fileno())
                os.replace(tmp, final)
                dir_fd = os.open(self.dir, os.O_RDONLY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)
                write_atomic(
                    self.dir / "dense.json",
                    json.dumps(
                        {
                            "seq": self.seq,
                            "kind": self.kind,
                            "ntotal": self.ntotal,
                            "tombstones": self.dead,
                            "dim": self.dim,
                            "time": time.time(),
                        }
                    ).encode(),
                )
            for p in self.dir.iterdir():  # older states, and leftovers of writers that crashed (we hold the lock)
                m = _FILE.match(p.name)
                if (m and int(m.group(1)) < self.seq) or (
                    p.name.startswith((".dense-", ".dense.json.")) and p.name.endswith(".tmp")
                ):
                    try:
                        p.unlink()
                    except FileNotFoundError:
                        pass
            return final

    def disk_bytes(self) -> int:
        """Size of the published index file(s)."""
        return sum(p.stat().st_size for p in self.dir.iterdir() if _FILE.match(p.name))


@dataclass(frozen=True)
class HnswSettings:
    """HNSW's graph degree, construction candidate list, search candidate list (0: calibrated to the recall floor)
    and the tombstone share that triggers a rebuild."""

    m: int = 32
    ef_construction: int = 80
    ef_search: int = 0
    compact: float = 0.1


def index_kind(index: faiss.Index) -> str:
    """'ivf', 'hnsw' or 'flat' for an index of this module."""
    if isinstance(index, faiss.IndexIVF):
        return "ivf"
    if isinstance(index, faiss.IndexIDMap) and isinstance(faiss.downcast_index(index.index), faiss.IndexHNSW):
        return "hnsw"
    return "flat"


def read_mapped(path: Path) -> faiss.Index:
    """Read a published index file with its vectors memory-mapped rather than copied (shared between processes;
    read-only: `DenseIndex._own` copies it before a change)."""
    return faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC)


def ivf_nlist(n: int, per_sqrt: float = 4.0) -> int:
    """IVF lists for n vectors: per_sqrt * sqrt(n), at least 16, at most 65,536 and n / 8."""
    return int(min(65536, max(16, per_sqrt * math.sqrt(n)), max(1, n // 8)))


def build_ivf(
    vecs: np.ndarray, ids: np.ndarray, dim: int, nlist: int | None = None, nprobe: int = 0, recall: float = 0.98
) -> faiss.IndexIVFFlat:
    """Train and fill an IVF-Flat inner-product index (nlist by default 4*sqrt(n)); nprobe 0: calibrated to
    `recall`."""
    n = len(ids)
    nlist = nlist or ivf_nlist(n)
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)  # keeps a reference to quantizer
    index.cp.min_points_per_centroid = 5  # small stores: train anyway, without a warning
    rng = np.random.default_rng(0)
    sample = vecs[rng.choice(n, size=min(n, 64 * nlist), replace=False)] if n > 64 * nlist else vecs
    index.train(np.ascontiguousarray(sample, dtype=np.float32))
    index.set_direct_map_type(faiss.DirectMap.Hashtable)
    index.add_with_ids(np.ascontiguousarray(vecs, dtype=np.float32), ids)
    index.nprobe = nprobe or calibrate_nprobe(index, vecs, ids, recall)
    return index


def build_hnsw(vecs: np.ndarray, ids: np.ndarray, dim: int, settings: HnswSettings, recall: float) -> faiss.Index:
    """An HNSW inner-product graph with explicit ids; efSearch the setting's, or calibrated to `recall`."""
    graph = faiss.IndexHNSWFlat(dim, settings.m, faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efConstruction = settings.ef_construction
    index = faiss.IndexIDMap2(graph)
    index.add_with_ids(np.ascontiguousarray(vecs, dtype=np.float32), ids)
    graph.hnsw.efSearch = settings.ef_search or calibrate_ef(index, vecs, ids, recall)
    return index


def calibration_set(vecs: np.ndarray, ids: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Queries that sit among three random stored passages (their mean: a stored passage is found by its own
    list, a midpoint of two was still easier than the domain questions at 100k chunks: 0.98 there gave them 0.971;
    the mean of three gives them more than the floor) and their exact top-k ids."""
    n = len(ids)
    rng = np.random.default_rng(1)
    picks = rng.integers(n, size=(CALIBRATION_MIX, min(CALIBRATION_QUERIES, n)))
    queries = vecs[picks].sum(axis=0)
    queries = np.ascontiguousarray(queries / np.linalg.norm(queries, axis=1, keepdims=True), dtype=np.float32)
    _, truth = faiss.knn(queries, np.ascontiguousarray(vecs, dtype=np.float32), k, metric=faiss.METRIC_INNER_PRODUCT)
    return queries, ids[truth]


def least_effort(
    index: faiss.Index, vecs: np.ndarray, ids: np.ndarray, recall: float, params: list[faiss.SearchParameters]
) -> int:
    """The position of the first (cheapest) search parameters whose recall@10 against exact search on the
    calibration set reaches `recall` (len(params) if none does)."""
    queries, want = calibration_set(vecs, ids)
    for i, p in enumerate(params):
        _, got = index.search(queries, want.shape[1], params=p)
        found = sum(len(set(g) & set(w)) for g, w in zip(got.tolist(), want.tolist(), strict=True))
        if found / want.size >= recall:
            return i
    return len(params)


def calibrate_nprobe(index: faiss.IndexIVF, vecs: np.ndarray, ids: np.ndarray, recall: float) -> int:
    """The fewest lists (of NPROBES) whose recall@10 against exact search reaches `recall` (every list if none)."""
    nprobes = [p for p in NPROBES if p < index.nlist]
    i = least_effort(index, vecs, ids, recall, [faiss.SearchParametersIVF(nprobe=p) for p in nprobes])
    return nprobes[i] if i < len(nprobes) else int(index.nlist)


def calibrate_ef(index: faiss.Index, vecs: np.ndarray, ids: np.ndarray, recall: float) -> int:
    """The shortest HNSW candidate list (of EF_SEARCHES) whose recall@10 against exact search reaches `recall`."""
    i = least_effort(index, vecs, ids, recall, [faiss.SearchParametersHNSW(efSearch=e) for e in EF_SEARCHES])
    if i == len(EF_SEARCHES):
        log.warning("HNSW misses recall@10 %s even at efSearch %d; using it", recall, EF_SEARCHES[-1])
    return EF_SEARCHES[min(i, len(EF_SEARCHES) - 1)]
