"""Several server worker processes on one data directory: uploads and searches, no corruption."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx

from pactkb.api.auth import KeyStore
from pactkb.index.check import check
from pactkb.index.kb import KnowledgeBase
from pactkb.settings import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(data: Path, workers: int = 2) -> Iterator[str]:
    """`pactkb serve --workers N` on a free port; yields its base URL once a worker is ready."""
    port = free_port()
    # the caller waits for one worker to be ready; a request reaching the other while it still loads waits for it
    env = {**os.environ, "PACTKB_MODEL": "fake:64", "PACTKB_PARSE_WORKERS": "0", "PACTKB_READY_WAIT": "30"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pactkb.cli",
            "serve",
            "--data",
            str(data),
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 240  # a generous wait: the machine may be busy; loading takes seconds when idle
        while time.time() < deadline:
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise AssertionError(proc.stderr.read1().decode() if proc.stderr else "server did not start")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def wait_jobs(base: str, auth: dict[str, str], jobs: list[str], timeout: float = 120) -> list[dict]:
    """Poll jobs until each has finished; their final states."""
    deadline = time.time() + timeout
    pending = set(jobs)
    while pending and time.time() < deadline:
        for j in list(pending):
            if httpx.get(f"{base}/jobs/{j}", headers=auth, timeout=10).json()["status"] in ("done", "failed"):
                pending.discard(j)
        time.sleep(0.2)
    assert not pending, pending
    return [httpx.get(f"{base}/jobs/{j}", headers=auth, timeout=10).json() for j in jobs]


def test_two_workers_share_one_data_directory(tmp_path, sample_dir, make_pdf):
    data = tmp_path / "data"
    settings = Settings(data=data, model="fake:64", parse_workers=0)
    KnowledgeBase(settings).indexer.ingest([sample_dir])
    key, _ = KeyStore(data).create("uploader", "contributor", "public")
    with serve(data, workers=2) as base:
        pdfs = [
            make_pdf(f"w{i}.pdf", [[f"Worker test document {i} about courier networks and ferry ports."]]).read_bytes()
            for i in range(6)
        ]
        auth = {"Authorization": f"Bearer {key}"}

        def upload(i: int) -> str:
            r = httpx.post(
                f"{base}/documents",
                headers=auth,
                files={"files": (f"w{i}.pdf", pdfs[i], "application/pdf")},
                data={"sensitivity": "public"},
                timeout=30,
            )
            assert r.status_code == 202, r.text
            return r.json()["job_id"]

        def search(_: int) -> int:
            return httpx.get(f"{base}/search", params={"q": "courier networks ferry"}, timeout=30).status_code

        with ThreadPoolExecutor(8) as pool:
            jobs = list(pool.map(upload, range(6)))
            statuses = list(pool.map(search, range(40)))
        assert set(statuses) == {200}
        results = wait_jobs(base, auth, jobs)
        assert all(r["status"] == "done" and r["files"][0]["status"] == "indexed" for r in results)
        for _ in range(4):  # whichever worker answers sees every new document
            hits = httpx.get(
                f"{base}/search", params={"q": "worker test document courier", "k": 20, "mode": "lexical"}
            ).json()
            assert {f"w{i}.pdf" for i in range(6)} <= {h["file"] for h in hits["results"]}
    kb = KnowledgeBase(settings)
    assert kb.store.counts()["documents"] == 15
    assert check(kb.store, kb.dense) == []


def test_bursts_of_concurrent_uploads_at_two_workers_all_finish_done(tmp_path, sample_dir, make_pdf):
    """Both workers publish (dense index, bridge) at once: unique temporary names under one lock, no job fails;
    /metrics is for admins and adds up the requests of both workers."""
    data = tmp_path / "data"
    settings = Settings(data=data, model="fake:64", parse_workers=0)
    KnowledgeBase(settings).indexer.ingest([sample_dir])
    key, _ = KeyStore(data).create("ops", "admin", "confidential")
    auth = {"Authorization": f"Bearer {key}"}
    bursts, size = 5, 5
    pdfs = [
        make_pdf(
            f"b{i}.pdf", [[f"Burst document {i}: courier {i} crossed the river with parcel {i * 7}."]]
        ).read_bytes()
        for i in range(bursts * size)
    ]

    def upload(i: int) -> str:
        r = httpx.post(
            f"{base}/documents",
            headers=auth,
            files={"files": (f"b{i}.pdf", pdfs[i], "application/pdf")},
            data={"sensitivity": "public"},
            timeout=30,
        )
        assert r.status_code == 202, r.text
        return r.json()["job_id"]

    with serve(data, workers=2) as base:
        jobs = []
        for b in range(bursts):
            with ThreadPoolExecutor(size) as pool:
                jobs += list(pool.map(upload, range(b * size, (b + 1) * size)))
            time.sleep(0.5)
        results = wait_jobs(base, auth, jobs)
        assert [r["status"] for r in results] == ["done"] * len(jobs), [r for r in results if r["status"] != "done"]
        assert all(r["files"][0]["status"] == "indexed" for r in results)
        assert httpx.get(f"{base}/metrics", timeout=10).status_code == 401
        text = httpx.get(f"{base}/metrics", headers=auth, timeout=10).text
        posts = sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("pactkb_requests_total{") and 'route="/documents"' in line and 'method="POST"' in line
        )
        assert posts == len(jobs)  # both workers' requests, aggregated
    assert not any((data / "uploads").iterdir())
    assert not list((data / "index").glob("*.tmp*"))
