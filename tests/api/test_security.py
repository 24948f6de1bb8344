"""Issue 14: the holes an adversarial review found (escalation, leaks, audit gaps), each closed and kept closed."""

import hashlib
import json
import time

import pytest
from typer.testing import CliRunner

from pactkb.api.audit import export
from pactkb.cli.main import app as cli
from tests.api.conftest import CONFIDENTIAL, PUBLIC, make_api
from tests.api.test_bad_input import assert_problem


def upload(api, who: str, name: str, data: bytes, **form: str) -> dict:
    """Upload one file and wait for its job."""
    r = api.post("/documents", who, files={"files": (name, data, "application/pdf")}, data={**PUBLIC, **form})
    assert r.status_code == 202, r.text
    return api.state.jobs.wait(r.json()["job_id"])


def audit_rows(api) -> list[dict]:
    api.state.audit.flush()
    return export(api.settings.data)


# -- 1. no caller mints a key above its own role or clearance ---------------------------------------
def test_an_admin_cannot_mint_or_revoke_keys_above_its_own_clearance(api):
    low = api.state.keys.create("admin_pub", "admin", "public")[0]
    h = {"Authorization": f"Bearer {low}"}
    r = api.client.post("/keys", headers=h, json={"name": "escalate", "role": "admin", "clearance": "confidential"})
    assert_problem(r, 403, "clearance", "above your own")
    assert api.state.keys.list()[-1]["name"] != "escalate"
    ok = api.client.post("/keys", headers=h, json={"name": "peer", "role": "admin", "clearance": "public"})
    assert ok.status_code == 201
    assert_problem(api.client.delete("/keys/admin", headers=h), 403, "name")  # cannot disable a higher admin
    assert api.state.keys.active("admin")
    assert (
        api.post("/keys", "admin", json={"name": "conf", "role": "reader", "clearance": "confidential"}).status_code
        == 201
    )


def test_the_local_keys_command_stays_unrestricted(api, monkeypatch):
    monkeypatch.setenv("PACTKB_DATA", str(api.settings.data))
    res = CliRunner().invoke(
        cli, ["keys", "create", "--name", "root2", "--role", "admin", "--clearance", "confidential"]
    )
    assert res.exit_code == 0 and api.state.keys.info("root2")["clearance"] == "confidential"


# -- 2. bounded cost: the deep-paging window ----------------------------------------------------------
def test_paging_beyond_the_result_window_is_a_422_naming_offset(api):
    window = api.settings.max_result_window
    assert api.get("/search", params={"q": "money laundering", "offset": window - 10, "k": 10}).status_code == 200
    assert_problem(
        api.get("/search", params={"q": "money laundering", "offset": window - 9, "k": 10}),
        422,
        "offset",
        "max_result_window",
    )
    assert_problem(api.post("/search", json={"query": "money laundering", "offset": window, "k": 1}), 422, "offset")
    chunk = api.state.kb.store.doc_chunks(api.doc_id("cft-good-practice-2023.pdf"))[0]["id"]
    assert_problem(api.get(f"/chunks/{chunk}/similar", params={"offset": window - 9, "k": 10}), 422, "offset")


def test_the_window_is_a_setting(tmp_path, sample_dir):
    client, _, _ = make_api(tmp_path, sample_dir, max_result_window=50)
    try:
        assert client.get("/search", params={"q": "cash", "offset": 40, "k": 10}).status_code == 200
        assert_problem(client.get("/search", params={"q": "cash", "offset": 41, "k": 10}), 422, "offset", "50")
    finally:
        client.__exit__(None, None, None)


# -- 3. query translation: non-interference (see tests/index/test_bridge.py for the vocabulary itself) ----
# -- 4. an upload of a hidden document's copy gets an answer of the same shape ------------------------
def test_a_copy_of_a_hidden_document_gets_an_id_of_the_same_shape(api, pdf_bytes):
    hidden = api.state.kb.store.document(api.doc_id(CONFIDENTIAL))
    copy = upload(api, "contrib", "copy.pdf", (api.settings.data / hidden.stored_path).read_bytes())["files"][0]
    fresh = upload(api, "contrib", "fresh.pdf", pdf_bytes)["files"][0]
    assert copy["status"] == fresh["status"] == "indexed"
    assert len(copy["document_id"]) == len(fresh["document_id"]) == 16
    assert not copy["document_id"].startswith(hidden.id)  # the id says nothing of the hidden copy ...
    assert fresh["document_id"] != hashlib.sha256(pdf_bytes).hexdigest()[:16]  # ... nor of the content
    assert set(copy) == set(fresh)


# -- 5. downloads through signed links are audited as the principal the link was issued to ------------
def test_signed_link_downloads_are_audited_as_the_link_holder(api):
    hit = api.get("/search", "admin", params={"q": "carousel fraud"}).json()["results"][0]
    assert api.client.get(hit["file_url"]).status_code == 200  # no Authorization: the browser tab
    row = [r for r in audit_rows(api) if r["action"] == "download"][-1]
    assert row["actor"] == "admin" and row["via"] == "link" and row["document_ids"] == [hit["document_id"]]


# -- 6. JWT users and key users are distinct identities --------------------------------------------
@pytest.fixture
def jwt_api(tmp_path, sample_dir):
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwks = json.dumps({"keys": [{**jwk, "kid": "k1", "alg": "RS256", "use": "sig"}]})
    client, keys, settings = make_api(
        tmp_path, sample_dir, oidc_issuer="https://idp.example", oidc_audience="pactkb", oidc_jwks=jwks
    )

    def token(**claims) -> str:
        base = {
            "iss": "https://idp.example",
            "aud": "pactkb",
            "sub": "u-42",
            "preferred_username": "contrib",
            "exp": int(time.time()) + 60,
            "pactkb_role": "contributor",
            "pactkb_clearance": "public",
        }
        return jwt.encode({**base, **claims}, key, algorithm="RS256", headers={"kid": "k1"})

    from tests.api.conftest import Api

    yield Api(client, keys, settings), token
    client.__exit__(None, None, None)


def test_a_token_named_like_a_key_is_a_different_identity(jwt_api, pdf_bytes):
    api, token = jwt_api
    job = upload(api, "contrib", "mine.pdf", pdf_bytes)
    tok = {"Authorization": f"Bearer {token()}"}
    assert api.client.get(f"/jobs/{job['id']}", headers=tok).status_code == 404  # not the key's job
    doc = job["files"][0]["document_id"]
    assert api.client.patch(f"/documents/{doc}", headers=tok, json={"title": "hijack"}).status_code == 403
    me = api.client.get("/me", headers=tok).json()
    assert me["name"] == "jwt:https://idp.example#u-42" and me["via"] == "jwt"
    rows = [r for r in audit_rows(api) if r["route"] == "/documents/{doc_id}" and r["method"] == "PATCH"]
    assert rows[-1]["actor"] == "jwt:https://idp.example#u-42" and rows[-1]["via"] == "jwt"
    assert [r for r in audit_rows(api) if r["action"] == "upload"][-1]["via"] == "key"


def test_key_names_cannot_collide_with_token_identities(api):
    from pactkb.api.auth import KeyError_

    with pytest.raises(KeyError_, match="name"):
        api.state.keys.create("jwt:https://idp.example#u-42", "admin", "confidential")


# -- 8. signed links work without anonymous access ------------------------------------------------
def test_signed_links_work_under_no_anonymous(tmp_path, sample_dir):
    client, keys, _ = make_api(tmp_path, sample_dir, anonymous_read=False)
    try:
        hit = client.get(
            "/search", params={"q": "carousel fraud"}, headers={"Authorization": f"Bearer {keys['admin']}"}
        ).json()
        url = hit["results"][0]["file_url"]
        r = client.get(url)
        assert r.status_code == 200 and r.content.startswith(b"%PDF")
        assert client.get(url.split("?")[0]).status_code == 401  # without the token: still closed
        assert client.get(url.split("?")[0] + "?token=forged.x").status_code == 404
    finally:
        client.__exit__(None, None, None)


# -- 9. counts are those of what the caller may see; metrics are for operators ----------------------
def test_ready_counts_only_what_the_caller_may_see(api):
    anon = api.get("/ready").json()
    admin = api.get("/ready", "admin").json()
    assert admin["documents"] == 9 and anon["documents"] == 7
    assert api.get("/ready", "reader_r").json()["documents"] == 8
    assert anon["chunks"] < admin["chunks"]


def test_ready_under_no_anonymous_reveals_no_counts_without_a_key(tmp_path, sample_dir):
    client, keys, _ = make_api(tmp_path, sample_dir, anonymous_read=False)
    try:
        body = client.get("/ready").json()
        assert body["status"] == "ready" and "documents" not in body and "chunks" not in body
        assert client.get("/ready", headers={"Authorization": f"Bearer {keys['reader']}"}).json()["documents"] == 7
    finally:
        client.__exit__(None, None, None)


def test_metrics_are_for_admins_and_count_within_their_clearance(api):
    assert api.get("/metrics").status_code == 401
    assert api.get("/metrics", "reader").status_code == 403
    r = api.get("/metrics", "admin")
    assert r.status_code == 200 and "pactkb_index_documents 9.0" in r.text
    low = api.client.get(
        "/metrics", headers={"Authorization": f"Bearer {api.state.keys.create('ops', 'admin', 'public')[0]}"}
    )
    assert "pactkb_index_documents 7.0" in low.text


# -- 10. jobs follow the clearance of their document --------------------------------------------------
def test_a_job_is_hidden_from_admins_below_its_documents_clearance(api, pdf_bytes):
    job = upload(api, "admin", "secret.pdf", pdf_bytes, sensitivity="confidential")
    low = api.state.keys.create("admin_pub", "admin", "public")[0]
    r = api.client.get(f"/jobs/{job['id']}", headers={"Authorization": f"Bearer {low}"})
    assert (
        r.status_code == 404
        and r.json() == api.client.get("/jobs/ffffffffffffffff", headers={"Authorization": f"Bearer {low}"}).json()
    )
    assert api.get(f"/jobs/{job['id']}", "admin").status_code == 200


# -- 11. null values are 422s naming the field ------------------------------------------------------
@pytest.mark.parametrize("field", ["sensitivity", "title", "doc_type"])
def test_patch_with_null_is_a_422_naming_the_field(api, field):
    doc = api.doc_id("cft-good-practice-2023.pdf")
    assert_problem(api.patch(f"/documents/{doc}", "admin", json={field: None}), 422, field, "null")


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        (
            "post",
            "/search",
            {"query": "cash", "k": 5, "offset": 0, "mode": "hybrid", "filters": {}, "group_by_document": False},
        ),
        ("post", "/keys", {"name": "k9", "role": "reader", "clearance": "public"}),
        (
            "patch",
            "/documents/{doc}",
            {
                "title": "t",
                "publisher": "p",
                "year": 2020,
                "language": "en",
                "doc_type": "guideline",
                "areas": ["cybercrime"],
                "sensitivity": "public",
            },
        ),
    ],
)
def test_a_null_in_any_body_field_is_never_a_server_error(api, method, url, body):
    url = url.format(doc=api.doc_id("cft-good-practice-2023.pdf"))
    for key in body:
        r = getattr(api, method)(url, "admin", json={**body, key: None})
        assert r.status_code < 500 and (r.status_code < 400 or r.json()["detail"]), (key, r.status_code, r.text)


# -- 12. every access decision is audited with the presented identity, target and outcome ---------------
def test_404s_carry_their_target_and_revoked_keys_their_name(api):
    conf = api.doc_id(CONFIDENTIAL)
    api.get(f"/documents/{conf}", "reader")
    api.state.keys.revoke("reader_r")
    api.get("/search", "reader_r", params={"q": "cash"})
    api.client.get("/search", params={"q": "cash"}, headers={"Authorization": "Bearer pkb_deadbeef_nope"})
    rows = audit_rows(api)
    miss = [r for r in rows if r["status"] == 404 and r["route"] == "/documents/{doc_id}"][-1]
    assert miss["actor"] == "reader" and miss["target"] == conf
    revoked = [r for r in rows if r["status"] == 401 and r["actor"] == "reader_r"]
    assert revoked and "revoked" in revoked[-1]["detail"] and revoked[-1]["via"] == "key"
    unknown = [r for r in rows if r["status"] == 401 and r["actor"] != "reader_r"][-1]
    assert unknown["actor"] == "unknown-key:deadbeef" and "unknown" in unknown["detail"]


def test_audit_text_output_escapes_control_characters(api, monkeypatch):
    from pactkb.api.audit import AuditEvent

    api.state.audit.record(
        AuditEvent(
            actor="evil\n2026-01-01T00:00:00 admin   delete",
            action="search",
            method="GET",
            route="/search",
            status=200,
            query="a\rb\x1b[31m",
        )
    )
    api.state.audit.flush()
    monkeypatch.setenv("PACTKB_DATA", str(api.settings.data))
    out = CliRunner().invoke(cli, ["audit"]).stdout
    line = [x for x in out.splitlines() if "evil" in x]
    assert len(line) == 1 and "evil\\n2026" in line[0] and "\x1b" not in out and "\r" not in out
    assert not any(x.startswith("2026-01-01T00:00:00 admin") for x in out.splitlines())


def test_cli_prune_deletions_are_audited(tmp_path, sample_dir, monkeypatch, make_pdf):
    import shutil

    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(make_pdf("gone.pdf", [["A page about border crossings and cash couriers."]]), folder / "gone.pdf")
    monkeypatch.setenv("PACTKB_MODEL", "fake:64")
    monkeypatch.setenv("PACTKB_PARSE_WORKERS", "0")
    monkeypatch.setenv("PACTKB_DATA", str(tmp_path / "data"))
    runner = CliRunner()
    assert runner.invoke(cli, ["ingest", str(folder)]).exit_code == 0
    from pactkb.index.kb import KnowledgeBase
    from pactkb.settings import Settings

    doc = (
        KnowledgeBase(Settings(data=tmp_path / "data", model="fake:64"))
        .store.conn()
        .execute("SELECT id FROM documents")
        .fetchone()[0]
    )
    (folder / "gone.pdf").unlink()
    assert runner.invoke(cli, ["ingest", str(folder), "--prune"]).exit_code == 0
    rows = [r for r in export(tmp_path / "data") if r["action"] == "delete"]
    assert (
        rows and rows[-1]["document_ids"] == [doc] and rows[-1]["actor"].startswith("cli:") and rows[-1]["via"] == "cli"
    )


# -- 13. owners are shown to admins and to the owner only -------------------------------------------
def test_document_owners_are_shown_to_admins_and_the_owner_only(api, pdf_bytes):
    doc = upload(api, "contrib", "mine.pdf", pdf_bytes)["files"][0]["document_id"]

    def owner(who):
        items = api.get("/documents", who, params={"limit": 100}).json()["items"]
        return next(d["owner"] for d in items if d["id"] == doc), api.get(f"/documents/{doc}", who).json()["owner"]

    assert owner(None) == (None, None)
    assert owner("reader") == (None, None)
    assert owner("contrib") == ("contrib", "contrib")
    assert owner("admin") == ("contrib", "contrib")


# -- 14. oversized uploads are refused before they are written -------------------------------------
def test_oversized_uploads_are_refused_up_front_and_chunked_bodies_cut_at_the_limit(tmp_path, sample_dir):
    import anyio

    client, keys, _ = make_api(tmp_path, sample_dir, max_upload_mb=1)
    auth = [
        (b"authorization", f"Bearer {keys['contrib']}".encode()),
        (b"content-type", b"multipart/form-data; boundary=B"),
    ]
    read, sent = [0], []
    head = (
        b'--B\r\nContent-Disposition: form-data; name="sensitivity"\r\n\r\npublic\r\n--B\r\n'
        b'Content-Disposition: form-data; name="files"; filename="big.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n%PDF-1.4\n"
    )
    chunks = [head] + [b"0" * 65536] * 800 + [b"\r\n--B--\r\n"]  # 50 MB, sent chunked (no Content-Length)

    async def receive() -> dict:
        body = chunks[read[0]] if read[0] < len(chunks) else b""
        read[0] += 1
        return {"type": "http.request", "body": body, "more_body": read[0] < len(chunks)}

    async def send(message: dict) -> None:
        sent.append(message)

    def call(headers: list) -> int:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/documents",
            "raw_path": b"/documents",
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 1),
            "server": ("testserver", 80),
        }
        sent.clear()
        anyio.run(client.app, scope, receive, send)
        return next(m["status"] for m in sent if m["type"] == "http.response.start")

    try:
        assert call(auth + [(b"content-length", str(300 * 1024 * 1024).encode())]) == 413
        assert read[0] == 0  # refused on Content-Length before a byte was read
        assert call(auth) == 413
        assert read[0] * 65536 < 3 * 1024 * 1024  # reading stopped at the limit, not at 50 MB
        body = json.loads(b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"))
        assert body["errors"][0]["field"] == "files" and "1 MB" in body["detail"]
    finally:
        client.__exit__(None, None, None)


# -- 15. an upload must say its sensitivity -----------------------------------------------------------
def test_an_upload_without_sensitivity_is_refused(api, pdf_bytes):
    r = api.post("/documents", "contrib", files={"files": ("a.pdf", pdf_bytes, "application/pdf")})
    assert_problem(r, 422, "sensitivity", "required")
    r = api.post(
        "/documents", "contrib", files={"files": ("a.pdf", pdf_bytes, "application/pdf")}, data={"sensitivity": " "}
    )
    assert_problem(r, 422, "sensitivity")
    assert api.state.kb.store.counts()["documents"] == 9


# -- 16. a duplicate upload says it is already there and what was not applied ------------------------
def test_a_duplicate_upload_reports_what_was_not_applied(api, pdf_bytes):
    first = upload(api, "contrib", "a.pdf", pdf_bytes)["files"][0]
    again = upload(api, "contrib", "b.pdf", pdf_bytes, title="Another title", area="cybercrime")["files"][0]
    assert again["status"] == "duplicate" and again["document_id"] == first["document_id"]
    assert "already" in again["message"] and set(again["not_applied"]) == {"title", "areas"}
    public = api.doc_id("cft-good-practice-2023.pdf")
    data = (api.settings.data / api.state.kb.store.document(public).stored_path).read_bytes()
    same = upload(api, "contrib", "c.pdf", data)["files"][0]
    assert same["status"] == "duplicate" and same["document_id"] == public and same["not_applied"] == []


# -- the CLI refuses an empty query -----------------------------------------------------------------
@pytest.mark.parametrize("query", ["", "   "])
def test_cli_refuses_a_blank_query(api, monkeypatch, query):
    monkeypatch.setenv("PACTKB_DATA", str(api.settings.data))
    monkeypatch.setenv("PACTKB_MODEL", "fake:64")
    res = CliRunner().invoke(cli, ["search", query])
    assert res.exit_code == 2 and "blank" in res.output and len(res.output.strip().splitlines()) == 1


# -- 3. what a caller sees, query_translation included, does not depend on documents above their clearance ----
def test_query_translation_does_not_reveal_words_of_hidden_documents(tmp_path, sample_dir, make_pdf):
    from tests.index.test_dictionary import write_dictd

    write_dictd(tmp_path / "dict", "freedict-hrv-eng", {"nosorog": "rhinoceros", "granica": "border"})
    client, keys, _ = make_api(tmp_path, sample_dir, dictionaries=str(tmp_path / "dict"), chunk_tokens=16)
    lines = [
        "A rhinoceros horn shipment was seized at the airport cargo terminal.",
        "Dealers paid couriers to hide the rhinoceros horn inside wooden statues.",
        "The rhinoceros trade route ran through three countries and two free zones.",
        "Analysts traced payments for rhinoceros products to shell companies.",
        "Every rhinoceros case in this note remains under investigation.",
    ]
    secret = make_pdf("secret.pdf", [[line] for line in lines]).read_bytes()
    q = {"q": "nosorog preko granice"}
    admin = {"Authorization": f"Bearer {keys['admin']}"}
    st = client.app.state.pactkb

    def seen(headers=None) -> dict:
        body = client.get("/search", params=q, headers=headers or {}).json()
        body.pop("took_ms")
        return {k: body[k] for k in ("query_translation", "total", "facets", "no_good_answer", "query_language")} | {
            "ids": [h["chunk_id"] for h in body["results"]]
        }

    try:
        before = {
            who: seen(h) for who, h in [("anon", None), ("reader_r", {"Authorization": f"Bearer {keys['reader_r']}"})]
        }
        assert "rhinoceros" not in before["anon"]["query_translation"]
        job = client.post(
            "/documents",
            headers=admin,
            files={"files": ("secret.pdf", secret, "application/pdf")},
            data={"sensitivity": "confidential"},
        ).json()["job_id"]
        doc = st.jobs.wait(job)["files"][0]["document_id"]
        assert seen(admin)["query_translation"][0] == "rhinoceros"  # the admin's own vocabulary has it
        assert seen() == before["anon"]
        assert seen({"Authorization": f"Bearer {keys['reader_r']}"}) == before["reader_r"]
        assert client.delete(f"/documents/{doc}", headers=admin).status_code == 204
        assert "rhinoceros" not in seen(admin)["query_translation"]  # deletion takes effect at once
    finally:
        client.__exit__(None, None, None)
