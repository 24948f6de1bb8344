"""The cluster-wide writer lock: with the shared PostgreSQL store, one folder ingestion at a time across machines, and
a crashed holder's lock goes with its session."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import Timeout

from pactkb.index.kb import KnowledgeBase
from pactkb.index.shared_store import INGEST_LOCK, AdvisoryLock
from pactkb.settings import Settings

pytestmark = pytest.mark.postgres
TEXTS = ["Cash couriers at the border.", "Stablecoin wallets traced.", "Outreach to charities."]


@pytest.fixture
def folder(make_pdf: Callable[..., Path]) -> Path:
    """A small folder of three PDFs."""
    paths = [make_pdf(f"doc{i}.pdf", [[text]]) for i, text in enumerate(TEXTS)]
    return paths[0].parent


def test_two_machines_ingesting_one_folder_at_once_write_each_document_once(
    folder: Path, pg_database: str, tmp_path: Path
) -> None:
    """Two `pactkb ingest FOLDER` processes (separate data directories) started together: no errors, each document
    written once, and the two summaries add up (one indexed what the other then found unchanged)."""
    env = {**os.environ, "PACTKB_MODEL": "fake:64", "PACTKB_PARSE_WORKERS": "0", "PACTKB_DATABASE_URL": pg_database}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "pactkb.cli", "ingest", str(folder), "--data", str(tmp_path / m), "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for m in ("A", "B")
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outs]
    summaries = [json.loads(out) for out, _ in outs]
    assert [s["failed"] for s in summaries] == [[], []]
    assert sorted(s["indexed"] for s in summaries) == [0, 3]
    assert sorted(s["unchanged"] for s in summaries) == [0, 3]
    kb = KnowledgeBase(Settings(data=tmp_path / "C", model="fake:64", database_url=pg_database))
    assert kb.store.counts()["documents"] == 3 and len(kb.store.all_files()) == 3


def test_an_ingestion_waits_for_the_cluster_lock_and_writes_after_it(
    folder: Path, pg_database: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """While another machine holds the lock, an ingestion writes nothing; released, it runs; with no wait it fails
    naming the shared store, and nothing is lost."""
    kb = KnowledgeBase(Settings(data=tmp_path / "A", model="fake:64", parse_workers=0, database_url=pg_database))
    other = AdvisoryLock(pg_database, INGEST_LOCK)
    other.acquire(timeout=0)
    busy = kb.indexer.ingest([folder], lock_timeout=0)
    assert busy.indexed == 0 and busy.failed[0]["error"] == "another ingestion holds the writer lock"
    assert busy.failed[0]["file"].startswith("the shared store at postgresql://")
    waiting = threading.Event()

    class Waiting(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "waiting for another ingestion into the shared store" in record.getMessage():
                waiting.set()

    handler = Waiting()
    logging.getLogger("pactkb.index.pipeline").addHandler(handler)
    result: list = []
    try:
        worker = threading.Thread(target=lambda: result.append(kb.indexer.ingest([folder])))
        worker.start()
        assert waiting.wait(timeout=120), "the ingestion did not wait for the cluster lock"
        assert kb.store.counts()["documents"] == 0  # waiting: nothing written
        other.release()
        worker.join(timeout=300)
    finally:
        logging.getLogger("pactkb.index.pipeline").removeHandler(handler)
        other.release()
    assert result and result[0].indexed == 3 and result[0].failed == []
    assert kb.store.counts()["documents"] == 3


def test_a_crashed_holders_lock_is_freed_with_its_session(pg_database: str) -> None:
    """A process killed while holding the lock leaves it to the next ingestion (the server ends its session)."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from pactkb.index.shared_store import AdvisoryLock, INGEST_LOCK\n"
            f"lock = AdvisoryLock({pg_database!r}, INGEST_LOCK)\n"
            "lock.acquire(timeout=0)\n"
            "print('held', flush=True)\n"
            "time.sleep(600)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        lock = AdvisoryLock(pg_database, INGEST_LOCK)
        with pytest.raises(Timeout):
            lock.acquire(timeout=0)
    finally:
        holder.kill()
        holder.wait(timeout=30)
    lock.acquire(timeout=120)  # freed once the server notices the session is gone
    lock.release()
