"""Two `pactkb serve` replicas, each with its own data directory and port, sharing one PostgreSQL store: an upload
through one is found through the other, a delete through one answers 404 on the other, and the audit log holds both
replicas' events."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from pactkb.api.audit import export
from pactkb.api.auth import KeyStore
from tests.api.test_workers import free_port, wait_jobs

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
FOUND_WITHIN = 10.0  # seconds the issue allows for an upload through one replica to be found through another


@contextmanager
def replica(data: Path, url: str) -> Iterator[str]:
    """`pactkb serve --data DATA` on a free port with the shared store; yields its base URL once /ready says so."""
    port = free_port()
    env = {**os.environ, "PACTKB_MODEL": "fake:64", "PACTKB_PARSE_WORKERS": "0", "PACTKB_DATABASE_URL": url}
    log = open(data.parent / f"{data.name}.log", "wb")
    cmd = [sys.executable, "-m", "pactkb.cli", "serve", "--data", str(data), "--port", str(port), "--workers", "1"]
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 240  # generous: the machine may be busy
        while time.time() < deadline:
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, (data.parent / f"{data.name}.log").read_text()
            time.sleep(0.2)
        else:
            raise AssertionError((data.parent / f"{data.name}.log").read_text())
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def found(base: str, auth: dict[str, str], query: str) -> set[str]:
    """The files a search through a replica finds."""
    r = httpx.get(f"{base}/search", params={"q": query, "k": 20}, headers=auth, timeout=30)
    assert r.status_code == 200, r.text
    return {h["file"] for h in r.json()["results"]}


def test_two_replicas_share_one_store(tmp_path: Path, pg_database: str, make_pdf) -> None:
    key, _ = KeyStore(tmp_path / "keys", pg_database).create("analyst", "admin", "confidential")
    auth = {"Authorization": f"Bearer {key}"}
    pdf = make_pdf("drones.pdf", [["Smugglers fly drones carrying cash across the Drina river at night."]])
    with replica(tmp_path / "A", pg_database) as a, replica(tmp_path / "B", pg_database) as b:
        ready = httpx.get(f"{b}/ready", headers=auth, timeout=10).json()
        assert ready["replication"]["caught_up"] is True
        r = httpx.post(
            f"{a}/documents",
            headers=auth,
            files={"files": ("drones.pdf", pdf.read_bytes(), "application/pdf")},
            data={"sensitivity": "restricted"},
            timeout=30,
        )
        assert r.status_code == 202, r.text
        job = wait_jobs(a, auth, [r.json()["job_id"]])[0]
        assert job["status"] == "done", job
        doc_id = job["files"][0]["document_id"]

        indexed = time.time()
        while "drones.pdf" not in found(b, auth, "drones cash Drina") and time.time() - indexed < FOUND_WITHIN:
            time.sleep(0.1)
        assert "drones.pdf" in found(b, auth, "drones cash Drina"), "not found through B within 10 s"
        assert httpx.get(f"{b}/documents/{doc_id}/file", headers=auth, timeout=10).content == pdf.read_bytes()
        caught = httpx.get(f"{b}/ready", headers=auth, timeout=10).json()["replication"]
        assert caught["caught_up"] is True and caught["applied"] == caught["head"]

        assert httpx.delete(f"{a}/documents/{doc_id}", headers=auth, timeout=30).status_code == 204
        # at once, not after B's next poll: B answers about documents from the shared store
        assert httpx.get(f"{b}/documents/{doc_id}", headers=auth, timeout=10).status_code == 404
        assert httpx.get(f"{b}/documents/{doc_id}/file", headers=auth, timeout=10).status_code == 404
        assert "drones.pdf" not in found(b, auth, "drones cash Drina")

    rows = export(tmp_path, url=pg_database)
    searched_b = [r for r in rows if r["action"] == "search" and r["query"] == "drones cash Drina"]
    assert {r["action"] for r in rows} >= {"upload", "delete", "search", "download"}
    assert searched_b and any(r["action"] == "delete" and r["target"] == doc_id for r in rows)
