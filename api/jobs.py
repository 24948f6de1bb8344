"""Upload jobs: files are saved by the request, then ingested in the background by whichever server
process claims the job first (the claim is one SQLite UPDATE; ingestion holds the writer lock).

With the shared PostgreSQL store (PACTKB_DATABASE_URL) any replica may claim a job: the files' bytes are kept in
`job_uploads` until it has run, the claim is `SELECT ... FOR UPDATE SKIP LOCKED`, and the claim is a lease the runner
renews while it works, so the job of a worker that died is claimed again once its lease has expired."""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pactkb.api.audit import AuditEvent
from pactkb.api.auth import open_db
from pactkb.index.kb import KnowledgeBase
from pactkb.index.pipeline import Upload
from pactkb.pg import is_postgres
from pactkb.settings import visible_levels

log = logging.getLogger(__name__)
UPLOADS = "uploads"
SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    clearance TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    worker TEXT
);
CREATE TABLE IF NOT EXISTS job_files (
    job_id TEXT NOT NULL REFERENCES jobs(id),
    idx INTEGER NOT NULL,
    file TEXT NOT NULL,
    stored TEXT NOT NULL,
    meta TEXT NOT NULL,
    status TEXT NOT NULL,
    document_id TEXT,
    error TEXT,
    chunks INTEGER,
    detail TEXT,
    PRIMARY KEY (job_id, idx)
);
"""
ALREADY_THERE = "the same file is already in the knowledge base; this upload's metadata was not applied to it"


def _worker_id() -> str:
    """host:pid of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(worker: str | None) -> bool:
    """Whether a worker id names a live process on this host."""
    if not worker:
        return False
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname():
        return True  # another host: assume alive
    try:
        os.kill(int(pid), 0)
    except (OSError, ValueError):
        return False
    return True


class Jobs:
    """Creates, claims, runs and reports upload jobs for one data directory."""

    def __init__(self, kb: KnowledgeBase, audit: Callable[[AuditEvent], None] | None = None) -> None:
        """Open the job tables and the uploads folder; `audit` records what each job's files became."""
        self.kb = kb
        self.audit = audit
        self.data = kb.settings.data
        self.url = kb.settings.database_url if is_postgres(kb.settings.database_url) else None
        self.lease = kb.settings.job_lease
        self._local = threading.local()
        con = self.con
        if self.url is None:  # the shared database's tables come from `pactkb db upgrade`
            con.executescript(SCHEMA)
            if "detail" not in {r[1] for r in con.execute("PRAGMA table_info(job_files)")}:  # older service databases
                con.execute("ALTER TABLE job_files ADD COLUMN detail TEXT")
        (self.data / UPLOADS).mkdir(exist_ok=True)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def con(self) -> sqlite3.Connection:
        """This thread's connection: request threads and the runner never share one (a BEGIN on a shared connection
        would swallow, or fail, another thread's statements)."""
        con = getattr(self._local, "con", None)
        if con is None:
            con = self._local.con = open_db(self.data, self.url)
        return con

    # -- requests ------------------------------------------------------------------------------
    def new_dir(self) -> tuple[str, Path]:
        """A fresh job id and the folder its files are saved into."""
        job_id = uuid.uuid4().hex[:16]
        folder = self.data / UPLOADS / job_id
        folder.mkdir(parents=True)
        return job_id, folder

    def create(self, job_id: str, owner: str, clearance: str, files: list[tuple[str, Path, dict[str, Any]]]) -> None:
        """Queue a job for saved files: (original name, saved path, metadata overrides)."""
        self.con.execute("BEGIN IMMEDIATE")
        try:
            self.con.execute(
                "INSERT INTO jobs (id, owner, clearance, status, created_at) VALUES (?, ?, ?, 'queued', ?)",
                (job_id, owner, clearance, time.time()),
            )
            self.con.executemany(
                "INSERT INTO job_files (job_id, idx, file, stored, meta, status) VALUES (?, ?, ?, ?, ?, 'queued')",
                [
                    (job_id, i, name, str(path), json.dumps(meta, ensure_ascii=False))
                    for i, (name, path, meta) in enumerate(files)
                ],
            )
            if self.url is not None:  # any replica may run it: the bytes go with the job
                self.con.executemany(
                    "INSERT INTO job_uploads (job_id, idx, bytes) VALUES (?, ?, ?)",
                    [(job_id, i, path.read_bytes()) for i, (_, path, _) in enumerate(files)],
                )
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self._wake.set()

    def get(self, job_id: str) -> dict[str, Any] | None:
        """A job with its files."""
        row = self.con.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
        if row is None:
            return None
        files = self.con.execute(
            "SELECT file, status, document_id, error, chunks, meta, detail FROM job_files WHERE job_id=? ORDER BY idx",
            (job_id,),
        ).fetchall()
        out = []
        for f in files:
            d = dict(f)
            d["sensitivity"] = json.loads(d.pop("meta")).get("sensitivity")
            d.update(json.loads(d.pop("detail") or "{}"))
            out.append(d)
        return {**dict(row), "files": out}

    def sensitivities(self, job: dict[str, Any]) -> set[str]:
        """The labels a job touches: those its files asked for and those of the documents they became (now)."""
        labels = {f["sensitivity"] for f in job["files"] if f.get("sensitivity")}
        for f in job["files"]:
            rec = self.kb.store.document(f["document_id"]) if f.get("document_id") else None
            if rec is not None:
                labels.add(rec.sensitivity)
        return labels

    # -- running -------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the background runner thread of this process."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="pactkb-jobs", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the runner after the current job."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread.is_alive():  # a runner still starting sees the stop and ends
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        """Claim and run jobs until stopped (polling once a second for jobs queued by other processes)."""
        self._requeue_orphans()
        while not self._stop.is_set():
            job_id = self.claim()
            if job_id is None:
                self._wake.wait(timeout=1.0)
                self._wake.clear()
                continue
            try:
                self.run(job_id)
            except Exception as exc:
                log.exception("job %s failed", job_id)
                self.con.execute("UPDATE jobs SET status='failed', finished_at=? WHERE id=?", (time.time(), job_id))
                self.con.execute(
                    "UPDATE job_files SET status='failed', error=? WHERE job_id=? AND status IN ('queued', 'running')",
                    (f"internal error: {type(exc).__name__}", job_id),
                )
                owner = self.con.execute("SELECT owner FROM jobs WHERE id=?", (job_id,)).fetchone()
                self.record_outcomes(job_id, owner[0] if owner else "unknown")  # a crashed job's files are audited too

    def _requeue_orphans(self) -> None:
        """Put back jobs left 'running' by a process of this machine that died (shared jobs expire by lease)."""
        if self.url is not None:
            return
        for row in self.con.execute("SELECT id, worker FROM jobs WHERE status='running'").fetchall():
            if not _alive(row["worker"]):
                self.con.execute(
                    "UPDATE jobs SET status='queued', worker=NULL WHERE id=? AND status='running'", (row["id"],)
                )

    def claim(self) -> str | None:
        """Atomically take the oldest queued job for this process (in PostgreSQL: or one whose lease expired)."""
        if self.url is not None:
            now = time.time()
            row = self.con.execute(
                "UPDATE jobs SET status='running', started_at=?, worker=?, lease_until=? WHERE id = "
                "(SELECT id FROM jobs WHERE status='queued' OR (status='running' AND lease_until < ?) "
                "ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id",
                (now, _worker_id(), now + self.lease, now),
            ).fetchone()
            return row[0] if row else None
        row = self.con.execute(
            "UPDATE jobs SET status='running', started_at=?, worker=? WHERE id = "
            "(SELECT id FROM jobs WHERE status='queued' ORDER BY created_at LIMIT 1) AND status='queued' RETURNING id",
            (time.time(), _worker_id()),
        ).fetchone()
        return row[0] if row else None

    def _set_file(self, job_id: str, idx: int, **fields: Any) -> None:
        """Update one file's outcome."""
        sets = ", ".join(f"{k}=?" for k in fields)
        self.con.execute(f"UPDATE job_files SET {sets} WHERE job_id=? AND idx=?", (*fields.values(), job_id, idx))

    def run(self, job_id: str) -> None:
        """Ingest every file of a claimed job; per-file errors are recorded, not raised."""
        job = self.con.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
        files = self.con.execute("SELECT * FROM job_files WHERE job_id=? ORDER BY idx", (job_id,)).fetchall()
        if self.url is not None:
            files = [self.fetch_upload(f) for f in files]
        by_path = {Path(f["stored"]): f for f in files}
        uploads = [Upload(Path(f["stored"]), f["file"], json.loads(f["meta"])) for f in files]
        self.con.execute("UPDATE job_files SET status='running' WHERE job_id=?", (job_id,))
        with self.leased(job_id):
            outcomes = self.kb.indexer.ingest_uploads(
                uploads, owner=job["owner"], visible=visible_levels(job["clearance"])
            )
        for upload, outcome in outcomes:  # the pipeline publishes once all are done
            f = by_path[upload.path]
            if outcome.status == "failed":
                self._set_file(job_id, f["idx"], status="failed", error=outcome.error)
                continue
            detail = None
            if outcome.status == "duplicate" and outcome.document_id is not None:
                detail = json.dumps(
                    {"message": ALREADY_THERE, "not_applied": self.not_applied(outcome.document_id, upload.overrides)}
                )
            self._set_file(
                job_id,
                f["idx"],
                status=outcome.status,
                document_id=outcome.document_id,
                chunks=outcome.chunks,
                detail=detail,
            )
        self.record_outcomes(job_id, job["owner"])
        shutil.rmtree(self.data / UPLOADS / job_id, ignore_errors=True)
        if self.url is not None:
            self.con.execute("DELETE FROM job_uploads WHERE job_id=?", (job_id,))
        failed = self.con.execute(
            "SELECT count(*) FROM job_files WHERE job_id=? AND status='failed'", (job_id,)
        ).fetchone()[0]
        status = "failed" if failed == len(files) else "done"
        self.con.execute("UPDATE jobs SET status=?, finished_at=? WHERE id=?", (status, time.time(), job_id))

    def record_outcomes(self, job_id: str, owner: str) -> None:
        """One audit event per file of a finished job, as its uploader: the document it became (or the one it
        duplicates), or why it failed; `target` is the job, as in the upload request's own event."""
        if self.audit is None:
            return
        rows = self.con.execute(
            "SELECT file, status, document_id, error FROM job_files WHERE job_id=? ORDER BY idx", (job_id,)
        ).fetchall()
        for r in rows:
            outcome = r["status"] if r["status"] != "failed" else f"failed: {r['error']}"
            self.audit(
                AuditEvent(
                    actor=owner,
                    via="job",
                    action="ingest_upload",
                    method="JOB",
                    route="/documents",
                    status=422 if r["status"] == "failed" else 201 if r["status"] == "indexed" else 200,
                    document_ids=[r["document_id"]] if r["document_id"] else [],
                    detail=json.dumps({"file": r["file"], "outcome": outcome}, ensure_ascii=False),
                    target=f"job:{job_id}",
                )
            )

    def fetch_upload(self, f: Any) -> dict[str, Any]:
        """A shared job's file row, its bytes written into this replica's uploads folder when the request came to
        another replica."""
        row = dict(f)
        path = self.data / UPLOADS / row["job_id"] / f"{row['idx']}-{Path(row['stored']).name}"
        if not Path(row["stored"]).is_file():
            data = self.con.execute(
                "SELECT bytes FROM job_uploads WHERE job_id=? AND idx=?", (row["job_id"], row["idx"])
            ).fetchone()
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(bytes(data[0]) if data else b"")
            row["stored"] = str(path)
        return row

    @contextmanager
    def leased(self, job_id: str) -> Iterator[None]:
        """Renew a shared job's lease (every third of it) while its ingestion runs."""
        if self.url is None:
            yield
            return
        done = threading.Event()

        def renew() -> None:
            con = open_db(self.data, self.url)
            try:
                while not done.wait(self.lease / 3):
                    con.execute(
                        "UPDATE jobs SET lease_until=? WHERE id=? AND worker=?",
                        (time.time() + self.lease, job_id, _worker_id()),
                    )
            finally:
                con.close()

        thread = threading.Thread(target=renew, name=f"pactkb-lease-{job_id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join(timeout=10)

    def not_applied(self, doc_id: str, meta: dict[str, Any]) -> list[str]:
        """The metadata an upload asked for that the document already there does not have (it was not applied)."""
        rec = self.kb.store.document(doc_id)
        if rec is None:
            return sorted(meta)
        return [k for k, v in meta.items() if getattr(rec, k, None) != v]

    def wait(self, job_id: str, timeout: float = 60.0) -> dict[str, Any] | None:
        """Block until a job has finished (for tests and the CLI)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            job = self.get(job_id)
            if job is None or job["status"] in ("done", "failed"):
                return job
            time.sleep(0.05)
        return self.get(job_id)
