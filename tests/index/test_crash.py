"""Crash safety: kill -9 during ingestion leaves a readable store; a re-run completes the work."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np

from pactkb.index.check import check
from pactkb.index.dense import DenseIndex
from pactkb.index.kb import KnowledgeBase
from pactkb.settings import Settings


def _ingest_cmd(folder, data):
    env = {**os.environ, "PACTKB_MODEL": "fake:64", "PACTKB_PARSE_WORKERS": "0", "PACTKB_DATA": str(data)}
    return [sys.executable, "-m", "pactkb.cli", "ingest", str(folder), "--json"], env


def _documents(db) -> int:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute("SELECT count(*) FROM documents").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def assert_loads_every_chunk(kb: KnowledgeBase) -> None:
    """A fresh reader of the published index sees exactly the store's chunks."""
    reader = DenseIndex(kb.store, kb.encoder.dim)
    reader.load()
    assert np.array_equal(np.sort(reader.ids()), kb.store.chunk_ids())


def test_kill_9_during_ingest_then_rerun(tmp_path, make_pdf):
    base = make_pdf(
        "base.pdf", [["Guideline on cash couriers and border declarations. " * 20], ["Second page on NPOs. " * 20]]
    ).read_bytes()
    folder = tmp_path / "many"
    folder.mkdir()
    total = 150
    for i in range(total):
        (folder / f"doc{i:03d}.pdf").write_bytes(base + f"\n% copy {i}\n".encode())
    data = tmp_path / "data"
    cmd, env = _ingest_cmd(folder, data)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    db = data / "pactkb.sqlite3"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None and _documents(db) < 5:
        time.sleep(0.02)
    assert proc.poll() is None, "ingestion finished before it could be killed; make the batch larger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    settings = Settings(data=data, model="fake:64", parse_workers=0)
    kb = KnowledgeBase(settings)
    done = kb.store.counts()["documents"]
    assert 5 <= done < total
    assert check(kb.store, kb.dense) == []  # FAISS rebuilt/replayed from the log agrees with SQLite

    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["indexed"] + summary["unchanged"] == total
    assert summary["unchanged"] == done
    kb2 = KnowledgeBase(settings)
    assert kb2.store.counts()["documents"] == total
    assert check(kb2.store, kb2.dense) == []


def test_half_written_or_stale_index_files_are_ignored(settings, sample_dir):
    kb = KnowledgeBase(settings)
    kb.indexer.ingest([sample_dir])
    index_dir = settings.data / "index"
    seq = kb.store.log_seq()
    (index_dir / f".dense-{seq + 5}.123.tmp").write_bytes(b"partial")  # an interrupted publish
    (index_dir / f"dense-{seq + 9}.faiss").write_bytes(b"not faiss")  # newer than the store: ignored
    fresh = DenseIndex(kb.store, kb.encoder.dim)
    fresh.load()
    assert fresh.seq == seq and fresh.ntotal == kb.store.counts()["chunks"]
    (index_dir / f"dense-{seq}.faiss").write_bytes(b"corrupt")  # the current file is damaged: rebuilt
    assert_loads_every_chunk(kb)


def test_concurrent_publishers_do_not_trip_over_each_other(settings, sample_dir):
    """Server workers publish the same data directory at once: none fails, the result loads, leftovers go."""
    from concurrent.futures import ThreadPoolExecutor

    kb = KnowledgeBase(settings)
    kb.indexer.ingest([sample_dir])
    index_dir = settings.data / "index"
    (index_dir / ".dense-1.99999.tmp").write_bytes(b"left by a crashed writer")
    writers = [DenseIndex(kb.store, kb.encoder.dim) for _ in range(3)]
    for w in writers:
        w.load()

    def publish_often(w: DenseIndex) -> int:
        for _ in range(15):
            (index_dir / f"dense-{w.seq}.faiss").unlink(missing_ok=True)  # force a real write each time
            w.publish()
        return w.seq

    with ThreadPoolExecutor(3) as pool:
        seqs = list(pool.map(publish_often, writers))
    assert len(set(seqs)) == 1
    assert sorted(p.name for p in index_dir.iterdir() if p.name.startswith(("dense-", ".dense-"))) == [
        f"dense-{seqs[0]}.faiss"
    ]
    assert_loads_every_chunk(kb)


def test_a_corrupt_index_file_is_replaced_on_the_next_publish(settings, sample_dir):
    kb = KnowledgeBase(settings)
    kb.indexer.ingest([sample_dir])
    seq = kb.store.log_seq()
    current = settings.data / "index" / f"dense-{seq}.faiss"
    current.write_bytes(b"corrupt")
    dense = DenseIndex(kb.store, kb.encoder.dim)
    dense.load()  # rebuilt from the store
    dense.publish()
    assert current.stat().st_size > 100
    assert_loads_every_chunk(kb)
