"""The service on the shared PostgreSQL store: keys, upload jobs and the audit log are shared by every replica, the
audit log is append-only in the database itself, and a job is claimed by one worker (SKIP LOCKED) until its lease
expires."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import psycopg
import pytest

from pactkb.api.audit import AuditLog, export
from pactkb.api.auth import KeyStore
from pactkb.api.jobs import UPLOADS, Jobs, _worker_id
from pactkb.index.filters import Filters
from pactkb.index.kb import KnowledgeBase
from pactkb.settings import Settings
from tests.api.conftest import Api, make_api

pytestmark = pytest.mark.postgres


@pytest.fixture
def shared_api(tmp_path: Path, sample_dir: Path, pg_database: str) -> Api:
    """A live app over the sample corpus whose store, keys, jobs and audit log are in PostgreSQL."""
    client, keys, settings = make_api(tmp_path, sample_dir, database_url=pg_database)
    yield Api(client, keys, settings)
    client.__exit__(None, None, None)


def test_the_audit_log_is_append_only_in_the_database(shared_api: Api, pg_database: str) -> None:
    assert shared_api.get("/search", "reader", params={"q": "cash couriers"}).status_code == 200
    shared_api.state.audit.flush()
    rows = export(shared_api.settings.data, url=pg_database)
    assert any(r["action"] == "search" and r["actor"] == "reader" and r["query"] == "cash couriers" for r in rows)
    con = psycopg.connect(pg_database, autocommit=True)  # the table's owner, bypassing pactkb entirely
    for statement in ("UPDATE audit SET actor = 'someone else'", "DELETE FROM audit", "TRUNCATE audit"):
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            con.execute(statement)
    assert len(export(shared_api.settings.data, url=pg_database)) == len(rows)
    public = con.execute("SELECT has_table_privilege('public', 'audit', 'UPDATE')").fetchone()[0]
    assert public is False


def test_keys_are_shared_by_every_replica(pg_database: str, tmp_path: Path) -> None:
    key, _ = KeyStore(tmp_path / "A", pg_database).create("analyst", "reader", "restricted")
    elsewhere = KeyStore(tmp_path / "B", pg_database)
    assert elsewhere.verify(key).clearance == "restricted"
    elsewhere.revoke("analyst")
    with pytest.raises(Exception, match="revoked"):
        KeyStore(tmp_path / "A", pg_database).verify(key)


def replica(settings: Settings, name: str, lease: float = 300.0) -> Jobs:
    """The job runner of a replica with its own data directory."""
    kb = KnowledgeBase(settings.model_copy(update={"data": settings.data.parent / name, "job_lease": lease}))
    return Jobs(kb)


def test_a_job_is_claimed_once_and_reclaimed_after_its_lease_expires(pg_settings: Settings, make_pdf) -> None:
    a, b = replica(pg_settings, "A", lease=60), replica(pg_settings, "B")
    pdf = make_pdf("drones.pdf", [["Smugglers use drones to drop cash across rivers."]])
    job_id, folder = a.new_dir()
    saved = folder / "drones.pdf"
    shutil.copyfile(pdf, saved)
    a.create(job_id, "contrib", "public", [("drones.pdf", saved, {"sensitivity": "public"})])
    assert a.claim() == job_id
    assert b.claim() is None  # claimed (and locked while claiming): never handed out twice
    con = a.con
    con.execute("UPDATE jobs SET lease_until = ? WHERE id = ?", (time.time() - 1, job_id))  # A died: lease ran out
    shutil.rmtree(a.data / UPLOADS)  # and B cannot see A's disk: the bytes come from the database
    assert b.claim() == job_id
    log = AuditLog(b.data, pg_settings.database_url)
    b.audit = log.record  # each file's outcome is audited in the shared database, as the job's owner
    b.run(job_id)
    log.close()
    job = b.get(job_id)
    assert job["status"] == "done" and job["files"][0]["status"] == "indexed"
    doc_id = job["files"][0]["document_id"]
    outcome = [r for r in export(b.data, url=pg_settings.database_url) if r["target"] == f"job:{job_id}"]
    assert [(r["action"], r["actor"], r["document_ids"]) for r in outcome] == [("ingest_upload", "contrib", [doc_id])]
    assert b.kb.store.document(doc_id).source_name == "drones.pdf"
    assert con.execute("SELECT count(*) FROM job_uploads WHERE job_id = ?", (job_id,)).fetchone()[0] == 0
    a.kb.store.catch_up()
    assert doc_id in a.kb.store.admitted([doc_id], Filters(clearance="public"))
    assert a.get(job_id)["status"] == "done"  # every replica reports the job


def test_a_running_job_keeps_its_lease(pg_settings: Settings) -> None:
    jobs = replica(pg_settings, "A", lease=0.3)
    first = time.time() + 0.3
    jobs.con.execute(
        "INSERT INTO jobs (id, owner, clearance, status, created_at, worker, lease_until) "
        "VALUES ('j1', 'me', 'public', 'running', 0, ?, ?)",
        (_worker_id(), first),
    )
    lease = first
    with jobs.leased("j1"):  # while the ingestion runs, the lease is renewed every third of it
        deadline = time.time() + 10
        while lease <= first and time.time() < deadline:
            time.sleep(0.05)
            lease = jobs.con.execute("SELECT lease_until FROM jobs WHERE id = 'j1'").fetchone()[0]
    assert lease > first
