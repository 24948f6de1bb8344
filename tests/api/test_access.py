"""Who may see and do what: clearance hides documents everywhere; roles gate actions."""

import json

import pytest

from tests.api.conftest import CONFIDENTIAL, PUBLIC, RESTRICTED

QUERIES = ["carousel fraud missing trader", "cocaine banana containers ports", "good practice financing"]


def files_in(resp) -> set[str]:
    body = resp.json()
    out = {h["file"] for h in body["results"]}
    out |= {a["file"] for h in body["results"] for a in h["also_in"]}
    return out


@pytest.mark.parametrize(
    ("who", "sees_r", "sees_c"),
    [
        (None, False, False),
        ("reader", False, False),
        ("contrib", False, False),
        ("reader_r", True, False),
        ("contrib_r", True, False),
        ("admin", True, True),
    ],
)
def test_search_results_snippets_facets_and_totals_respect_clearance(api, who, sees_r, sees_c):
    for q in QUERIES:
        for mode in ("hybrid", "dense", "lexical"):
            r = api.get("/search", who, params={"q": q, "k": 100, "mode": mode})
            assert r.status_code == 200
            files = files_in(r)
            assert (RESTRICTED in files) <= sees_r and (CONFIDENTIAL in files) <= sees_c
            body = r.json()
            assert "restricted" not in body["facets"]["doc_type"]
            sens = {h["sensitivity"] for h in body["results"]}
            assert sens <= {"public"} | ({"restricted"} if sees_r else set()) | ({"confidential"} if sees_c else set())
            text = json.dumps([body["results"], body["facets"]]).lower()
            if not sees_c:
                assert "carousel" not in text and "missing trader" not in text
            if not sees_r:
                assert "banana" not in text
    admin_total = api.get("/search", "admin", params={"q": "fraud", "k": 100}).json()["total"]
    anon_total = api.get("/search", None, params={"q": "fraud", "k": 100}).json()["total"]
    assert anon_total < admin_total or who == "admin"


def test_explicit_sensitivity_filter_cannot_widen_clearance(api):
    r = api.get("/search", "reader", params={"q": "cocaine", "sensitivity": "restricted"})
    assert r.status_code == 200 and r.json()["results"] == [] and r.json()["total"] == 0


def test_facet_counts_hide_forbidden_documents(api):
    anon = api.get("/search", params={"q": "fraud money laundering", "k": 100}).json()["facets"]
    admin = api.get("/search", "admin", params={"q": "fraud money laundering", "k": 100}).json()["facets"]
    assert sum(anon["doc_type"].values()) < sum(admin["doc_type"].values())
    assert "threat assessment" not in anon["doc_type"] and "report" not in anon["doc_type"]


def test_forbidden_ids_answer_404_exactly_like_missing_ones(api):
    conf = api.doc_id(CONFIDENTIAL)
    chunk = api.state.kb.store.doc_chunks(conf)[0]["id"]
    for url, missing in [
        (f"/documents/{conf}", "/documents/ffffffffffffffff"),
        (f"/documents/{conf}/file", "/documents/ffffffffffffffff/file"),
        (f"/documents/{conf}/chunks", "/documents/ffffffffffffffff/chunks"),
        (f"/chunks/{chunk}", "/chunks/999999"),
        (f"/chunks/{chunk}/similar", "/chunks/999999/similar"),
    ]:
        forbidden, absent = api.get(url, "reader_r"), api.get(url.replace(url, missing), "reader_r")
        assert forbidden.status_code == absent.status_code == 404, url
        assert forbidden.json() == absent.json(), url
        assert api.get(url, "admin").status_code == 200, url
    assert (
        api.patch(f"/documents/{conf}", "contrib_r", json={"title": "x"}).json()
        == api.patch("/documents/ffffffffffffffff", "contrib_r", json={"title": "x"}).json()
    )


def test_similar_and_document_lists_respect_clearance(api):
    public_doc = api.doc_id("cft-good-practice-2023.pdf")
    chunk = api.state.kb.store.doc_chunks(public_doc)[0]["id"]
    for who, hidden in [(None, {RESTRICTED, CONFIDENTIAL}), ("reader_r", {CONFIDENTIAL})]:
        sim = api.get(f"/chunks/{chunk}/similar", who, params={"k": 100})
        assert sim.status_code == 200 and not (files_in(sim) & hidden)
        docs = api.get("/documents", who, params={"limit": 100}).json()
        names = {d["source_name"] for d in docs["items"]}
        assert not (names & hidden) and docs["total"] == len(names)
    assert api.get("/documents", "admin", params={"limit": 100}).json()["total"] == 9


def test_file_links_work_in_a_browser_without_the_key(api):
    conf = api.doc_id(CONFIDENTIAL)
    hit = api.get("/search", "admin", params={"q": "carousel fraud"}).json()["results"][0]
    assert hit["document_id"] == conf and "token=" in hit["page_url"] and hit["page_url"].endswith("#page=1")
    url = hit["file_url"]
    r = api.client.get(url)  # no Authorization header: the signed token grants this one document
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF")
    other = api.doc_id(RESTRICTED)
    assert api.client.get(url.replace(conf, other)).status_code == 404  # token is bound to its document
    assert api.client.get(f"/documents/{conf}/file?token=forged.deadbeef").status_code == 404
    api.state.keys.revoke("admin")
    assert api.client.get(url).status_code == 404  # revoking the key kills its links


def test_anonymous_access_can_be_switched_off(tmp_path, sample_dir):
    from tests.api.conftest import make_api

    client, keys, _ = make_api(tmp_path, sample_dir, anonymous_read=False)
    try:
        assert client.get("/search", params={"q": "cash"}).status_code == 401
        assert client.get("/documents").status_code == 401
        ok = client.get("/search", params={"q": "cash"}, headers={"Authorization": f"Bearer {keys['reader']}"})
        assert ok.status_code == 200
        assert client.get("/health").status_code == 200
    finally:
        client.__exit__(None, None, None)


@pytest.mark.parametrize("header", ["Bearer pkb_nope_nope", "Basic dXNlcjpwYXNz", "Bearer ", "pkb_x_y", "Bearer a.b.c"])
def test_bad_credentials_are_401(api, header):
    r = api.client.get("/search", params={"q": "cash"}, headers={"Authorization": header})
    assert r.status_code == 401 and r.json()["detail"]
    assert r.headers.get("www-authenticate") == "Bearer"


def test_revoked_key_is_refused(api):
    api.state.keys.revoke("reader")
    assert api.get("/search", "reader", params={"q": "cash"}).status_code == 401


def test_roles_gate_actions(api, pdf_bytes):
    files = {"files": ("a.pdf", pdf_bytes, "application/pdf")}
    assert api.post("/documents", None, files=files, data=PUBLIC).status_code == 401
    assert api.post("/documents", "reader", files=files, data=PUBLIC).status_code == 403
    assert api.post("/documents", "contrib", files=files, data=PUBLIC).status_code == 202
    doc = api.doc_id("otna-2024-cyber-attacks.pdf")
    assert api.delete(f"/documents/{doc}", "contrib").status_code == 403
    assert api.patch(f"/documents/{doc}", "contrib", json={"title": "Mine now"}).status_code == 403  # not theirs
    assert api.patch(f"/documents/{doc}", "admin", json={"title": "Renamed by admin"}).status_code == 200
    assert api.get("/keys", "contrib").status_code == 403
    assert api.get("/keys", "admin").status_code == 200
    assert api.delete(f"/documents/{doc}", "admin").status_code == 204
    assert api.get(f"/documents/{doc}", "admin").status_code == 404


def test_jobs_are_visible_only_to_their_uploader_and_admins(api, pdf_bytes):
    job = api.post(
        "/documents", "contrib", files={"files": ("a.pdf", pdf_bytes, "application/pdf")}, data=PUBLIC
    ).json()["job_id"]
    assert api.get(f"/jobs/{job}", "contrib").status_code == 200
    assert api.get(f"/jobs/{job}", "contrib_r").status_code == 404
    assert api.get(f"/jobs/{job}", "admin").status_code == 200


def test_uploading_a_copy_of_an_invisible_document_reveals_nothing(api):
    data = (api.settings.data / api.state.kb.store.document(api.doc_id(CONFIDENTIAL)).stored_path).read_bytes()
    job = api.post("/documents", "contrib", files={"files": ("mine.pdf", data, "application/pdf")}, data=PUBLIC).json()[
        "job_id"
    ]
    result = api.state.jobs.wait(job)
    f = result["files"][0]
    assert f["status"] == "indexed" and f["document_id"] != api.doc_id(CONFIDENTIAL)
    mine = api.get(f"/documents/{f['document_id']}", "contrib").json()
    assert mine["sensitivity"] == "public" and mine["owner"] == "contrib"
    again = api.post(
        "/documents", "contrib", files={"files": ("again.pdf", data, "application/pdf")}, data=PUBLIC
    ).json()["job_id"]
    assert api.state.jobs.wait(again)["files"][0] == {
        **api.state.jobs.wait(again)["files"][0],
        "status": "duplicate",
        "document_id": f["document_id"],
    }


def test_jwt_bearer_tokens(tmp_path, sample_dir):
    import json
    import time

    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    from tests.api.conftest import make_api

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwks = json.dumps({"keys": [{**jwk, "kid": "k1", "alg": "RS256", "use": "sig"}]})
    client, _, _ = make_api(
        tmp_path, sample_dir, oidc_issuer="https://idp.example", oidc_audience="pactkb", oidc_jwks=jwks
    )

    def token(**claims) -> str:
        base = {
            "iss": "https://idp.example",
            "aud": "pactkb",
            "sub": "u1",
            "preferred_username": "maria",
            "exp": int(time.time()) + 60,
            "pactkb_role": "reader",
            "pactkb_clearance": "confidential",
        }
        return jwt.encode({**base, **claims}, key, algorithm="RS256", headers={"kid": "k1"})

    try:
        ok = client.get("/search", params={"q": "carousel fraud"}, headers={"Authorization": f"Bearer {token()}"})
        assert ok.status_code == 200 and ok.json()["results"][0]["file"] == CONFIDENTIAL
        for bad in (token(exp=int(time.time()) - 10), token(iss="https://evil.example"), token(aud="other")):
            assert (
                client.get("/search", params={"q": "x"}, headers={"Authorization": f"Bearer {bad}"}).status_code == 401
            )
    finally:
        client.__exit__(None, None, None)
