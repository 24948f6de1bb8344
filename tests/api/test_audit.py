"""The audit log: every search, view, download, upload, edit, delete and key change; append-only."""

import json
import sqlite3

import pytest
from typer.testing import CliRunner

from pactkb.api.audit import export
from pactkb.cli.main import app as cli
from tests.api.conftest import PUBLIC


def test_actions_are_recorded_with_who_what_and_status(api, pdf_bytes):
    doc = api.doc_id("cft-good-practice-2023.pdf")
    api.get("/search", "reader", params={"q": "cash couriers", "type": "guideline"})
    api.get(f"/documents/{doc}", "reader")
    api.get(f"/documents/{doc}/file", "reader")
    job = api.post(
        "/documents", "contrib", files={"files": ("x.pdf", pdf_bytes, "application/pdf")}, data=PUBLIC
    ).json()["job_id"]
    new_doc = api.state.jobs.wait(job)["files"][0]["document_id"]
    api.patch(f"/documents/{new_doc}", "contrib", json={"title": "Edited"})
    api.delete(f"/documents/{new_doc}", "admin")
    api.post("/keys", "admin", json={"name": "k2"})
    api.get("/search", params={"q": "x", "k": 0})  # a rejected request is audited too
    api.get("/documents/ffffffffffffffff", "reader")
    api.state.audit.flush()
    rows = export(api.settings.data)
    by_action = {}
    for r in rows:
        by_action.setdefault(r["action"], []).append(r)
    s = by_action["search"][0]
    assert s["actor"] == "reader" and s["query"] == "cash couriers" and s["filters"]["type"] == ["guideline"]
    # the 2023 edition is shown as "also in" of its 2025 twin: a document shown that way is audited too
    assert s["status"] == 200 and doc in s["document_ids"] and s["route"] == "/search"
    assert by_action["view_document"][0]["document_ids"] == [doc]
    assert by_action["download"][0]["document_ids"] == [doc]
    assert by_action["upload"][0]["actor"] == "contrib"
    assert by_action["edit"][0]["document_ids"] == [new_doc]
    assert by_action["delete"][0]["actor"] == "admin" and by_action["delete"][0]["status"] == 204
    assert by_action["key_create"][0]["detail"].startswith("k2")
    rejected = [r for r in rows if r["route"] == "/search" and r["status"] == 422]
    assert rejected and rejected[0]["actor"] == "anonymous"
    assert any(r["status"] == 404 and r["route"] == "/documents/{doc_id}" for r in rows)


def test_audit_table_is_append_only(api):
    api.get("/search", params={"q": "x"})
    api.state.audit.flush()
    con = sqlite3.connect(api.settings.data / "audit.sqlite3")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("UPDATE audit SET actor='someone else'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("DELETE FROM audit")


def test_audit_export_cli_and_cli_key_changes(api, monkeypatch):
    monkeypatch.setenv("PACTKB_DATA", str(api.settings.data))
    runner = CliRunner()
    created = runner.invoke(
        cli, ["keys", "create", "--name", "ops", "--role", "admin", "--clearance", "restricted", "--json"]
    )
    assert created.exit_code == 0 and json.loads(created.stdout)["key"].startswith("pkb_")
    assert runner.invoke(cli, ["keys", "revoke", "ops"]).exit_code == 0
    listed = runner.invoke(cli, ["keys", "list", "--json"])
    ops = [k for k in json.loads(listed.stdout) if k["name"] == "ops"][0]
    assert ops["revoked_at"] is not None and "key" not in ops
    api.get("/search", params={"q": "audit me"})
    api.state.audit.flush()
    out = runner.invoke(cli, ["audit", "--since", "1h", "--json"])
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    assert {"key_create", "key_revoke", "search"} <= {r["action"] for r in lines}
    assert runner.invoke(cli, ["audit", "--since", "2099-01-01", "--json"]).stdout.strip() == ""
    assert runner.invoke(cli, ["audit", "--since", "yesterday"]).exit_code == 2
    assert "audit me" in runner.invoke(cli, ["audit"]).stdout


def test_audit_writes_do_not_block_requests(api):
    """The request thread only queues the event: searches complete while the audit database is locked."""
    blocker = sqlite3.connect(api.settings.data / "audit.sqlite3", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        for _ in range(5):
            assert api.get("/search", params={"q": "cash"}).status_code == 200
    finally:
        blocker.execute("ROLLBACK")
    api.state.audit.flush()
    assert sum(1 for r in export(api.settings.data) if r["action"] == "search") >= 5


def test_the_command_lines_actor_is_the_processs_account_not_the_user_variable(monkeypatch):
    import os
    import pwd

    from pactkb.cli.audit import cli_actor

    me = pwd.getpwuid(os.getuid()).pw_name
    monkeypatch.delenv("SUDO_USER", raising=False)
    monkeypatch.delenv("USER", raising=False)
    assert cli_actor() == f"cli:{me}"
    monkeypatch.setenv("USER", "someone-else")
    assert cli_actor() == f"cli:{me}"
    monkeypatch.setenv("SUDO_USER", "alice")
    import pactkb.cli.audit as cli_audit

    monkeypatch.setattr(cli_audit.os, "getuid", lambda: 0)
    root = pwd.getpwuid(0).pw_name
    assert cli_actor() == f"cli:{root} (sudo from alice)"  # root, through sudo
    monkeypatch.setattr(cli_audit.os, "getuid", lambda: 4242)  # an account-less uid claiming sudo: not believed
    assert cli_actor() == "cli:uid-4242"


def test_an_upload_is_audited_with_its_job_and_each_files_outcome_and_a_refusal_with_its_reason(api, pdf_bytes):
    job = api.post(
        "/documents",
        "contrib",
        files=[
            ("files", ("good.pdf", pdf_bytes, "application/pdf")),
            ("files", ("same.pdf", pdf_bytes, "application/pdf")),
        ],
        data=PUBLIC,
    ).json()["job_id"]
    files = api.state.jobs.wait(job)["files"]
    refused = api.post(
        "/documents", "contrib", files={"files": ("x.pdf", b"not a pdf", "application/pdf")}, data=PUBLIC
    )
    assert refused.status_code == 415
    api.state.audit.flush()
    rows = export(api.settings.data)
    upload = next(r for r in rows if r["action"] == "upload" and r["status"] == 202)
    assert upload["actor"] == "contrib" and upload["target"] == f"job:{job}"
    outcomes = [r for r in rows if r["action"] == "ingest_upload" and r["target"] == f"job:{job}"]
    assert [json.loads(r["detail"])["file"] for r in outcomes] == ["good.pdf", "same.pdf"]
    assert all(r["actor"] == "contrib" for r in outcomes)
    assert outcomes[0]["document_ids"] == [files[0]["document_id"]] and files[0]["document_id"]
    assert outcomes[1]["document_ids"] == [files[1]["document_id"]]  # the same content: the duplicate's document
    assert [json.loads(r["detail"])["outcome"] for r in outcomes] == [files[0]["status"], files[1]["status"]]
    bad = next(r for r in rows if r["route"] == "/documents" and r["status"] == 415)
    assert bad["actor"] == "contrib" and "x.pdf: not a PDF" in bad["detail"]
    api.get("/search", "reader", params={"q": "x", "k": 0})
    api.state.audit.flush()
    k0 = [r for r in export(api.settings.data) if r["route"] == "/search" and r["status"] == 422][-1]
    assert k0["actor"] == "reader" and k0["detail"].startswith("k:")


def test_an_event_recorded_after_the_log_is_closed_is_written_not_lost(tmp_path):
    from pactkb.api.audit import AuditEvent, AuditLog

    log = AuditLog(tmp_path)
    log.record(AuditEvent(actor="a", action="search", method="GET", route="/search", status=200))
    log.close()  # the server stops while a job is still finishing
    log.record(AuditEvent(actor="contrib", action="ingest_upload", method="JOB", route="/documents", status=201))
    assert [r["action"] for r in export(tmp_path)] == ["search", "ingest_upload"]
