"""Every invalid request gets a 4xx with a JSON body naming the field and the problem."""

import pytest

from tests.api.conftest import PUBLIC, RESTRICTED, make_api


def assert_problem(r, status: int, field: str | None = None, words: str = "") -> None:
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert isinstance(body["detail"], str) and body["detail"]
    if field is not None:
        assert any(e["field"] == field for e in body["errors"]), body
    if words:
        assert words.lower() in r.text.lower(), body


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"q": ""}, "q", "at least 1"),
        ({"q": "   "}, "q", "blank"),
        ({"q": "x" * 2001}, "q", "at most 2000"),
        ({}, "q", "required"),
        ({"q": "x", "k": 0}, "k", "greater than"),
        ({"q": "x", "k": 101}, "k", "less than"),
        ({"q": "x", "k": "ten"}, "k", "integer"),
        ({"q": "x", "offset": -1}, "offset", ""),
        ({"q": "x", "mode": "fuzzy"}, "mode", "hybrid"),
        ({"q": "x", "colour": "red"}, "colour", "unknown parameter"),
        ({"q": "x", "type": "poem"}, "filters.type", "unknown document type"),
        ({"q": "x", "area": "astrology"}, "filters.area", "unknown area"),
        ({"q": "x", "year_min": "1066"}, "year_min", ""),
        ({"q": "x", "sensitivity": "secret"}, "filters.sensitivity", "not one of"),
    ],
)
def test_bad_search_parameters(api, params, field, words):
    assert_problem(api.get("/search", params=params), 422, field, words)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"q": ""}, "q"),
        ({"q": "x" * 2001}, "q"),
        ({"query": ""}, "q"),
        ({"query": "x", "k": 500}, "k"),
        ({"query": "x", "mode": "semantic"}, "mode"),
        ({"q": "x", "filters": {"colour": "red"}}, "filters.colour"),
        ({"q": "x", "filters": {"type": ["poem"]}}, "filters.type"),
        ({"q": "x", "filters": {"year": "2025-2020"}}, "filters.year"),
        ({"q": "x", "filters": {"year": "recent"}}, "filters.year"),
        ({"query": "x", "unknown": 1}, "unknown"),
        ({"k": 3}, "q"),
        ([1, 2, 3], "body"),
    ],
)
def test_bad_search_bodies(api, body, field):
    assert_problem(api.post("/search", json=body), 422, field)


def test_malformed_json_and_wrong_content_type(api):
    assert_problem(
        api.post("/search", content=b'{"query": "x",', headers={"content-type": "application/json"}),
        422,
        "body",
        "malformed JSON",
    )
    assert_problem(
        api.post("/search", content=b"query=x", headers={"content-type": "application/x-www-form-urlencoded"}), 415
    )
    assert_problem(api.post("/search", content=b"{}", headers={"content-type": "text/plain"}), 415)


def test_upload_bad_inputs(api, pdf_bytes):
    def up(files, data=None, who="contrib"):
        return api.post("/documents", who, files=files, data={**PUBLIC, **(data or {})})

    assert_problem(api.post("/documents", "contrib", json={"x": 1}), 415)
    assert_problem(up({"other": ("a.txt", b"x", "text/plain")}, {"title": "t"}), 422, "other", "unknown field")
    assert_problem(
        up({"files": ("a.pdf", b"PK\x03\x04 a zip file, renamed", "application/pdf")}), 415, "files[0]", "not a PDF"
    )
    assert_problem(
        up({"files": ("a.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog", "application/pdf")}), 422, "files[0]", "corrupt"
    )
    assert_problem(up({"files": ("a.pdf", b"", "application/pdf")}), 422, "files[0]", "empty")
    for name in ("../../etc/passwd.pdf", "..\\..\\boot.pdf", "a/b.pdf", "..", "bad\x00.pdf"):
        assert_problem(up({"files": (name, pdf_bytes, "application/pdf")}), 422, "files[0]", "not allowed")
    assert_problem(up({"files": ("a.pdf", pdf_bytes, "application/pdf")}, {"year": "20x6"}), 422, "year")
    assert_problem(up({"files": ("a.pdf", pdf_bytes, "application/pdf")}, {"type": "poem"}), 422, "type")
    assert_problem(up({"files": ("a.pdf", pdf_bytes, "application/pdf")}, {"area": "astrology"}), 422, "area")
    assert_problem(
        up({"files": ("a.pdf", pdf_bytes, "application/pdf")}, {"sensitivity": "top-secret"}), 422, "sensitivity"
    )
    assert_problem(
        up({"files": ("a.pdf", pdf_bytes, "application/pdf")}, {"sensitivity": "confidential"}),
        403,
        "sensitivity",
        "clearance",
    )
    assert not list((api.settings.data / "uploads").iterdir())  # nothing half-saved after rejections


def test_password_protected_upload_is_rejected(api, make_pdf, tmp_path):
    from pypdf import PdfReader, PdfWriter

    w = PdfWriter(clone_from=PdfReader(make_pdf("p.pdf", [["secret"]])))
    w.encrypt(user_password="pw", owner_password="o", algorithm="AES-256")
    out = tmp_path / "locked.pdf"
    with open(out, "wb") as fh:
        w.write(fh)
    r = api.post(
        "/documents", "contrib", files={"files": ("locked.pdf", out.read_bytes(), "application/pdf")}, data=PUBLIC
    )
    assert_problem(r, 422, "files[0]", "password")


def test_upload_over_the_size_limit(tmp_path, sample_dir, make_pdf):
    client, keys, _ = make_api(tmp_path, sample_dir, max_upload_mb=1)
    try:
        big = make_pdf("big.pdf", [["x"]]).read_bytes() + b"%" + b"0" * (1024 * 1024 + 10)
        r = client.post(
            "/documents",
            headers={"Authorization": f"Bearer {keys['contrib']}"},
            files={"files": ("big.pdf", big, "application/pdf")},
            data=PUBLIC,
        )
        assert_problem(r, 413, "files[0]", "1 MB")
    finally:
        client.__exit__(None, None, None)


def test_patch_bad_inputs(api, pdf_bytes):
    job = api.post(
        "/documents", "contrib", files={"files": ("a.pdf", pdf_bytes, "application/pdf")}, data=PUBLIC
    ).json()["job_id"]
    doc = api.state.jobs.wait(job)["files"][0]["document_id"]
    assert_problem(api.patch(f"/documents/{doc}", "contrib", json={}), 422, "body", "nothing to change")
    assert_problem(api.patch(f"/documents/{doc}", "contrib", json={"year": 99999}), 422, "year")
    assert_problem(api.patch(f"/documents/{doc}", "contrib", json={"doc_type": "poem"}), 422, "doc_type")
    assert_problem(api.patch(f"/documents/{doc}", "contrib", json={"areas": ["astrology"]}), 422, "areas")
    assert_problem(api.patch(f"/documents/{doc}", "contrib", json={"owner": "me"}), 422, "owner", "unknown field")
    assert_problem(api.patch(f"/documents/{doc}", "contrib", json={"sensitivity": "restricted"}), 403, "sensitivity")
    assert_problem(api.patch(f"/documents/{doc}", "contrib", json={"title": None}), 422, "title")


@pytest.mark.parametrize(
    "url",
    [
        "/documents?limit=0",
        "/documents?limit=1000",
        "/documents?sort=size",
        "/chunks/abc",
        "/chunks/1/similar?k=0",
        "/documents?type=poem",
        "/documents?offset=9223372036854775808",
        "/documents?offset=-1",
    ],
)
def test_bad_list_and_path_parameters(api, url):
    r = api.get(url)
    assert 400 <= r.status_code < 500 and r.json()["detail"]


def test_huge_offset_on_a_documents_passages(api):
    doc = api.get("/documents").json()["items"][0]["id"]
    assert_problem(api.get(f"/documents/{doc}/chunks?offset=9223372036854775808"), 422, "offset")


def test_unknown_route_and_method(api):
    assert api.get("/nope").status_code == 404 and api.get("/nope").json()["detail"]
    assert api.client.put("/search").status_code == 405


def test_a_bad_filter_value_is_named_once(api):
    """The field names the filter; the message says what is wrong, without "filter 'type':" again."""
    problem = api.get("/search", params={"q": "x", "type": "poem"}).json()
    assert problem["detail"].startswith("filters.type: ") and "filter 'type'" not in problem["detail"]
    assert "unknown document type" in problem["errors"][0]["message"]


def language_problem(r, field: str) -> str:
    """The message of a 422 naming a language filter."""
    assert r.status_code == 422, r.text
    (error,) = [e for e in r.json()["errors"] if e["field"] == field]
    return error["message"]


def test_an_unknown_language_is_refused_at_every_entry_point(api):
    """A mistyped language ("srb" for "sr") is a 422 naming the filter and listing the corpus's languages, in GET and
    POST /search, /documents and /chunks/{id}/similar; a valid code the corpus lacks finds nothing, without error."""
    chunk = api.state.kb.store.doc_chunks(api.doc_id("cft-good-practice-2023.pdf"))[0]["id"]
    for r, field in [
        (api.get("/search", params={"q": "cash", "language": "srb"}), "filters.language"),
        (api.post("/search", json={"q": "cash", "filters": {"language": ["en", "srb"]}}), "filters.language"),
        (api.get("/documents", params={"language": "srb"}), "language"),
        (api.get(f"/chunks/{chunk}/similar", params={"language": "srb"}), "filters.language"),
    ]:
        message = language_problem(r, field)
        assert "unknown language 'srb'" in message and "sr (Serbian)" in message, message
    empty = api.get("/search", params={"q": "cash", "language": "de", "mode": "lexical"})
    assert empty.status_code == 200 and empty.json()["results"] == []
    assert api.get("/documents", params={"language": "hr"}).json()["total"] == 0


def test_language_spellings_people_type_find_the_stored_code(api):
    for typed in ["SR", "srp", "Serbian", "sr-Latn"]:
        res = api.post("/search", json={"q": "finansijske istrage", "filters": {"language": [typed]}}).json()
        assert res["results"] and {h["language"] for h in res["results"]} == {"sr"}, typed
        docs = api.get("/documents", params={"language": typed}).json()
        assert [d["source_name"] for d in docs["items"]] == ["finansijske-istrage-prirucnik-sr.pdf"], typed


def test_the_language_hint_never_names_a_restricted_documents_language(api):
    """Only the restricted document is in Croatian: its language is listed to a cleared caller, never to others."""
    assert api.patch(f"/documents/{api.doc_id(RESTRICTED)}", "admin", json={"language": "hr"}).status_code == 200
    for who, shows in [(None, False), ("reader", False), ("reader_r", True), ("admin", True)]:
        for r, field in [
            (api.get("/search", who, params={"q": "x", "language": "srb"}), "filters.language"),
            (api.get("/documents", who, params={"language": "srb"}), "language"),
        ]:
            message = language_problem(r, field)
            assert "sr (Serbian)" in message and ("hr (Croatian)" in message) == shows, (who, message)


def test_a_document_language_is_set_as_its_code_and_a_typo_is_refused(api, pdf_bytes):
    """Upload and PATCH store a language as the code the language filter finds ("Serbian" -> "sr"); a value that
    names no language ("srb") is a 422 naming `language`, and nothing is saved or changed."""
    upload = {"files": ("a.pdf", pdf_bytes, "application/pdf")}
    r = api.post("/documents", "contrib", files=upload, data={**PUBLIC, "language": "srb"})
    assert_problem(r, 422, "language", "unknown language 'srb'")
    assert not list((api.settings.data / "uploads").iterdir())
    job = api.post("/documents", "contrib", files=upload, data={**PUBLIC, "language": "Serbian"}).json()["job_id"]
    doc = api.state.jobs.wait(job)["files"][0]["document_id"]
    assert api.get(f"/documents/{doc}", "contrib").json()["language"] == "sr"
    assert doc in {d["id"] for d in api.get("/documents", "contrib", params={"language": "sr"}).json()["items"]}
    assert_problem(api.patch(f"/documents/{doc}", "contrib", json={"language": "srb"}), 422, "language", "'srb'")
    assert api.get(f"/documents/{doc}", "contrib").json()["language"] == "sr"
    for typed, code in [("Macedonian", "mk"), ("SQ", "sq"), ("hrv", "hr"), ("sr-Latn", "sr")]:
        r = api.patch(f"/documents/{doc}", "contrib", json={"language": typed})
        assert r.status_code == 200 and r.json()["language"] == code, (typed, r.text)
    assert api.patch(f"/documents/{doc}", "contrib", json={"language": None}).json()["language"] is None
