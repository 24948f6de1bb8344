"""`pactkb serve` with several workers: they share the memory-mapped vector index and split the cores."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from pactkb.cli.serve import share_cores
from pactkb.index.kb import KnowledgeBase


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tree(pid: int) -> list[int]:
    """A process and its descendants."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid] + [p for c in children for p in _tree(int(c))]


def test_two_workers_answer_and_map_the_same_index_file(settings, sample_dir, tmp_path):
    KnowledgeBase(settings).indexer.ingest([sample_dir])
    index_file = next((settings.data / "index").glob("dense-*.faiss")).resolve()
    port = _free_port()
    env = {**os.environ, "PACTKB_MODEL": "fake:64", "PACTKB_APERTIUM": "", "PACTKB_DICTIONARIES": ""}
    env.pop("PACTKB_ENCODER_THREADS", None)
    cmd = [sys.executable, "-m", "pactkb.cli", "serve", "--data", str(settings.data), "--port", str(port)]
    proc = subprocess.Popen([*cmd, "--workers", "2"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        answered: set[int] = set()
        deadline = time.time() + 240  # the machine may be busy
        while time.time() < deadline and len(answered) < 8:
            try:
                r = httpx.get(f"{base}/search", params={"q": "cash couriers", "k": 3}, timeout=30)
            except httpx.HTTPError:
                time.sleep(0.3)
                continue
            if r.status_code == 200:
                assert r.json()["results"], r.text
                answered.add(len(answered))
            else:
                time.sleep(0.3)
        assert len(answered) == 8, proc.stderr.read().decode() if proc.poll() is not None else "no answers"
        mapped: list[int] = []
        deadline = time.time() + 120
        while time.time() < deadline:  # each worker loads the index when it starts
            mapped = [p for p in _tree(proc.pid) if str(index_file) in Path(f"/proc/{p}/maps").read_text()]
            if len(mapped) == 2:
                break
            time.sleep(0.5)
        assert len(mapped) == 2 and proc.pid not in mapped  # two workers map the one file; neither copies it
        for pid in mapped:  # each worker's encoder and FAISS get their share of the cores
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            assert f"PACTKB_ENCODER_THREADS={max(1, (os.cpu_count() or 1) // 2)}".encode() in environ
    finally:
        proc.terminate()
        proc.wait(timeout=60)


@pytest.mark.parametrize(
    ("workers", "cores", "given", "expected"),
    [(2, 2, None, "1"), (4, 2, None, "1"), (2, 8, None, "4"), (2, 2, "2", "2")],
)
def test_share_cores_splits_the_cores_unless_set(monkeypatch, workers, cores, given, expected):
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    if given is None:
        monkeypatch.delenv("PACTKB_ENCODER_THREADS", raising=False)
    else:
        monkeypatch.setenv("PACTKB_ENCODER_THREADS", given)
    share_cores(workers)
    assert os.environ["PACTKB_ENCODER_THREADS"] == expected


def test_one_worker_keeps_every_core(monkeypatch):
    monkeypatch.delenv("PACTKB_ENCODER_THREADS", raising=False)
    share_cores(1)
    assert "PACTKB_ENCODER_THREADS" not in os.environ
