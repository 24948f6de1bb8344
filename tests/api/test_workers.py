"""Several server worker processes on one data directory: uploads and searches, no corruption."""

import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from pactkb.api.auth import KeyStore
from pactkb.index.check import check
from pactkb.index.kb import KnowledgeBase
from pactkb.settings import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_workers_share_one_data_directory(tmp_path, sample_dir, make_pdf):
    data = tmp_path / "data"
    settings = Settings(data=data, model="fake:64", parse_workers=0)
    KnowledgeBase(settings).indexer.ingest([sample_dir])
    key, _ = KeyStore(data).create("uploader", "contributor", "public")
    port = free_port()
    # the test waits for one worker to be ready; a search reaching the other while it still loads waits for it
    env = {**os.environ, "PACTKB_MODEL": "fake:64", "PACTKB_PARSE_WORKERS": "0", "PACTKB_READY_WAIT": "30"}
    proc = subprocess.Popen([sys.executable, "-m", "pactkb.api.cli", "serve", "--data", str(data), "--port", str(port),
                             "--workers", "2"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 180  # two workers load models, dictionaries and Apertium side by side
        while time.time() < deadline:
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise AssertionError(proc.stderr.read1().decode() if proc.stderr else "server did not start")
        pdfs = [make_pdf(f"w{i}.pdf", [[f"Worker test document {i} about courier networks and ferry ports."]]).read_bytes()
                for i in range(6)]
        auth = {"Authorization": f"Bearer {key}"}

        def upload(i: int) -> str:
            r = httpx.post(f"{base}/documents", headers=auth, files={"files": (f"w{i}.pdf", pdfs[i], "application/pdf")}, timeout=30)
            assert r.status_code == 202, r.text
            return r.json()["job_id"]

        def search(_: int) -> int:
            return httpx.get(f"{base}/search", params={"q": "courier networks ferry"}, timeout=30).status_code

        with ThreadPoolExecutor(8) as pool:
            jobs = list(pool.map(upload, range(6)))
            statuses = list(pool.map(search, range(40)))
        assert set(statuses) == {200}
        deadline = time.time() + 60
        pending = set(jobs)
        while pending and time.time() < deadline:
            for j in list(pending):
                if httpx.get(f"{base}/jobs/{j}", headers=auth, timeout=10).json()["status"] in ("done", "failed"):
                    pending.discard(j)
            time.sleep(0.2)
        assert not pending
        results = [httpx.get(f"{base}/jobs/{j}", headers=auth).json() for j in jobs]
        assert all(r["status"] == "done" and r["files"][0]["status"] == "indexed" for r in results)
        for _ in range(4):  # whichever worker answers sees every new document
            hits = httpx.get(f"{base}/search", params={"q": "worker test document courier", "k": 20, "mode": "lexical"}).json()
            assert {f"w{i}.pdf" for i in range(6)} <= {h["file"] for h in hits["results"]}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    kb = KnowledgeBase(settings)
    assert kb.store.counts()["documents"] == 15
    assert check(kb.store, kb.dense) == []
