"""`pactkb serve` with several workers: they share the memory-mapped vector index, split the cores and the
connections."""

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import uvicorn

from pactkb.cli.serve import APP, share_cores, uvicorn_options
from pactkb.index.kb import KnowledgeBase
from pactkb.settings import Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tree(pid: int) -> list[int]:
    """A process and its descendants."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid] + [p for c in children for p in _tree(int(c))]


def _connections_by_pid(port: int, pids: list[int]) -> dict[int, int]:
    """How many established TCP connections to the port each process holds (/proc/net/tcp and the fds)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                inodes.add(fields[9])
    counts = {}
    for pid in pids:
        links = [os.readlink(f) for f in Path(f"/proc/{pid}/fd").iterdir() if f.is_symlink()]
        counts[pid] = sum(1 for link in links if link.startswith("socket:[") and link[8:-1] in inodes)
    return counts


async def _hold_connections(base: str, n: int, port: int, pids: list[int]) -> dict[int, int]:
    """Open n keep-alive connections at once (n concurrent searches) and count them per worker while open."""
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http:
        replies = await asyncio.gather(*(http.get("/search", params={"q": f"cash {i}", "k": 1}) for i in range(n)))
        assert all(r.status_code == 200 for r in replies)
        return _connections_by_pid(port, pids)


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
        # each worker listens on its own socket of the port: 16 clients connecting at once reach both workers (with
        # one shared socket, the first worker to wake accepted all of them in most runs); chance of a 16/0 split
        # by the kernel's hash: 2 in 65,536
        per_worker = asyncio.run(_hold_connections(base, 16, port, mapped))
        assert sum(per_worker.values()) == 16 and min(per_worker.values()) >= 1, per_worker
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


def test_several_workers_refuse_a_port_another_program_serves(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "PACTKB_MODEL": "fake:64"}
        cmd = [sys.executable, "-m", "pactkb.cli", "serve", "--data", str(tmp_path / "d"), "--port", str(port)]
        res = subprocess.run([*cmd, "--workers", "2"], env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 1 and f"127.0.0.1:{port} is already in use" in res.stderr


def test_idle_keep_alive_connections_stay_open_for_the_setting(monkeypatch):
    monkeypatch.delenv("PACTKB_KEEP_ALIVE", raising=False)
    assert uvicorn.Config(APP, **uvicorn_options(Settings())).timeout_keep_alive == 75  # not uvicorn's 5 s
    monkeypatch.setenv("PACTKB_KEEP_ALIVE", "30")
    config = uvicorn.Config(APP, **uvicorn_options(Settings()))
    assert config.timeout_keep_alive == 30
    assert config.factory and config.workers == 1 and not config.access_log
