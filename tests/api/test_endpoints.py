"""Every endpoint does its job."""

import contextlib
import threading
import time

import pytest

from tests.api.conftest import CONFIDENTIAL, PUBLIC


def test_search_get_and_post_agree(api):
    g = api.get("/search", params={"q": "cash couriers border", "k": 5})
    p = api.post("/search", json={"query": "cash couriers border", "k": 5})
    assert g.status_code == p.status_code == 200
    assert [h["chunk_id"] for h in g.json()["results"]] == [h["chunk_id"] for h in p.json()["results"]]
    body = g.json()
    for key in ("query", "took_ms", "total", "results", "facets", "no_good_answer"):
        assert key in body
    hit = body["results"][0]
    for key in (
        "rank",
        "score",
        "chunk_id",
        "document_id",
        "file",
        "title",
        "page_start",
        "page_end",
        "section",
        "snippet",
        "text",
        "page_url",
        "file_url",
        "also_in",
    ):
        assert key in hit
    assert hit["page_url"].endswith(f"#page={hit['page_start']}")
    assert set(body["facets"]) == {"doc_type", "area", "language", "year", "publisher"}


def test_search_filters_paging_modes_and_grouping(api):
    r = api.post(
        "/search",
        json={
            "query": "investigation",
            "k": 3,
            "offset": 3,
            "mode": "lexical",
            "filters": {"type": ["guideline"], "year_min": 2023},
        },
    ).json()
    assert r["offset"] == 3 and all(h["doc_type"] == "guideline" and h["year"] >= 2023 for h in r["results"])
    g = api.get("/search", params={"q": "terrorism financing", "group_by_document": "true", "k": 10}).json()
    docs = [h["document_id"] for h in g["results"]]
    assert len(docs) == len(set(docs))
    lang = api.get("/search", params={"q": "sluzba", "language": "sr", "mode": "lexical"}).json()
    assert lang["results"] and all(h["language"] == "sr" for h in lang["results"])
    assert "<mark>" in lang["results"][0]["snippet"]


def test_documents_list_detail_chunks_and_file(api):
    lst = api.get("/documents", params={"type": "guideline", "limit": 2, "sort": "year"}).json()
    assert lst["total"] >= 2 and len(lst["items"]) == 2
    doc = api.doc_id("cft-good-practice-2023.pdf")
    d = api.get(f"/documents/{doc}").json()
    assert d["chunk_count"] > 0 and len(d["page_list"]) == 7 and d["page_list"][2]["label"] == "1"
    assert [t["title"] for t in d["toc"]][1] == "1. Introduction"
    ch = api.get(f"/documents/{doc}/chunks", params={"limit": 3}).json()
    assert ch["total"] == d["chunk_count"] and len(ch["items"]) == 3 and ch["items"][0]["page_url"].endswith("#page=1")
    f = api.get(f"/documents/{doc}/file")
    assert f.status_code == 200 and f.headers["content-type"] == "application/pdf" and f.content[:5] == b"%PDF-"
    assert "inline" in f.headers["content-disposition"]
    md = api.get(f"/documents/{api.doc_id('nasoki-trgovija-so-droga-mk.md')}/file")
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown") and "Насоки" in md.text


def test_chunk_and_similar(api):
    doc = api.doc_id("cft-good-practice-2023.pdf")
    cid = api.get(f"/documents/{doc}/chunks").json()["items"][3]["id"]
    c = api.get(f"/chunks/{cid}").json()
    assert c["document_id"] == doc and c["page_start"] >= 1
    sim = api.get(f"/chunks/{cid}/similar", params={"k": 5}).json()
    assert sim["results"] and cid not in [h["chunk_id"] for h in sim["results"]]
    only = api.get(f"/chunks/{cid}/similar", params={"k": 5, "type": "booklet"}).json()
    assert all(h["doc_type"] == "booklet" for h in only["results"])


def test_upload_job_then_search_then_edit(api, pdf_bytes, make_pdf):
    second = make_pdf("second.pdf", [["Crowdfunding takedown procedures for extremist campaigns."]]).read_bytes()
    r = api.post(
        "/documents",
        "contrib",
        files=[
            ("files", ("drones.pdf", pdf_bytes, "application/pdf")),
            ("files", ("takedown.pdf", second, "application/pdf")),
        ],
        data={
            "title": "Drone drops",
            "year": "2026",
            "type": "report",
            "area": "migrant smuggling;cross-cutting",
            "language": "en",
            "publisher": "Analyst unit",
            "sensitivity": "public",
        },
    )
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    status = api.get(f"/jobs/{job_id}", "contrib").json()
    assert status["status"] in ("queued", "running", "done")
    job = api.state.jobs.wait(job_id)
    assert job["status"] == "done" and [f["status"] for f in job["files"]] == ["indexed", "indexed"]
    final = api.get(f"/jobs/{job_id}", "contrib").json()
    doc_id = final["files"][0]["document_id"]
    hit = api.get("/search", params={"q": "drones drop cash rivers", "k": 1}).json()["results"][0]
    assert hit["document_id"] == doc_id and hit["title"] == "Drone drops" and hit["year"] == 2026
    assert hit["areas"] == ["migrant smuggling", "cross-cutting"]
    d = api.get(f"/documents/{doc_id}", "contrib").json()
    assert d["owner"] == "contrib" and d["origin"] == "upload" and "title" not in d["inferred"]
    p = api.patch(f"/documents/{doc_id}", "contrib", json={"title": "Drone cash drops", "areas": ["fraud"]})
    assert p.status_code == 200 and p.json()["title"] == "Drone cash drops"
    assert api.get("/search", params={"q": "drone cash", "k": 1}).json()["results"][0]["title"] == "Drone cash drops"


def test_failed_file_in_a_job_is_reported_plainly(api, pdf_bytes, monkeypatch):
    import pactkb.index.pipeline as pipeline_mod

    real = pipeline_mod.parse_all

    def one_fails(jobs, *a, **kw):
        for path, result in real(jobs, *a, **kw):
            yield (
                path,
                (
                    "parser process died (memory limit); the file is pathological or too large"
                    if "bad" in path.name
                    else result
                ),
            )

    monkeypatch.setattr(pipeline_mod, "parse_all", one_fails)
    r = api.post(
        "/documents",
        "contrib",
        files=[
            ("files", ("good.pdf", pdf_bytes, "application/pdf")),
            ("files", ("bad.pdf", pdf_bytes + b"%", "application/pdf")),
        ],
        data=PUBLIC,
    )
    job = api.state.jobs.wait(r.json()["job_id"])
    files = {f["file"]: f for f in job["files"]}
    assert files["good.pdf"]["status"] in ("indexed", "duplicate") and files["bad.pdf"]["status"] == "failed"
    assert "memory limit" in files["bad.pdf"]["error"] and job["status"] == "done"


def test_admin_deletes_and_search_forgets(api):
    doc = api.doc_id(CONFIDENTIAL)
    assert api.delete(f"/documents/{doc}", "admin").status_code == 204
    r = api.get("/search", "admin", params={"q": "carousel fraud", "k": 50}).json()
    assert doc not in {h["document_id"] for h in r["results"]}
    assert api.delete(f"/documents/{doc}", "admin").status_code == 404


def test_health_ready_metrics(api):
    assert api.get("/health").json() == {"status": "ok"}
    ready = api.get("/ready", "admin").json()
    assert ready["status"] == "ready" and ready["documents"] == 9 and ready["chunks"] == api.state.kb.dense.ntotal
    api.get("/search", params={"q": "cash"})
    text = api.get("/metrics", "admin").text
    assert 'pactkb_requests_total{method="GET",route="/search",status="200"}' in text
    assert "pactkb_request_seconds_bucket" in text and "pactkb_index_documents 9.0" in text


def test_metrics_label_static_files_with_their_route(api):
    assert api.get("/static/app.js").status_code == 200
    assert api.get("/docs-assets/swagger-ui.css").status_code == 200
    text = api.get("/metrics", "admin").text
    assert 'route="/static/{path}",status="200"' in text
    assert 'route="/docs-assets/{path}",status="200"' in text
    assert 'route="unmatched"' not in text


@contextlib.contextmanager
def slowly_loading_app(tmp_path, ready_wait: float):
    """A test client on a service whose loading waits until the test opens the returned gate (no timing)."""
    from fastapi.testclient import TestClient

    from pactkb.api.app import create_app
    from pactkb.api.deps import ServiceState
    from pactkb.settings import Settings

    settings = Settings(data=tmp_path / "d", model="fake:64", parse_workers=0, ready_wait=ready_wait)
    slow, gate = ServiceState.load, threading.Event()

    def gated(self):
        gate.wait(60)
        slow(self)

    ServiceState.load = gated
    try:
        with TestClient(create_app(settings)) as client:
            yield client, gate
    finally:
        gate.set()
        ServiceState.load = slow


def test_ready_is_503_while_loading(tmp_path):
    with slowly_loading_app(tmp_path, ready_wait=0) as (client, gate):
        assert client.get("/ready").status_code == 503
        r = client.get("/search", params={"q": "x"})
        assert r.status_code == 503 and r.headers["retry-after"] == "2"
        assert client.get("/health").status_code == 200
        gate.set()
        deadline = time.time() + 30  # models, dictionaries and Apertium's pipelines; a busy machine is slower
        while client.get("/ready").status_code != 200 and time.time() < deadline:
            time.sleep(0.1)
        assert client.get("/ready").status_code == 200


def test_a_request_during_loading_waits_for_the_worker_to_be_ready(tmp_path):
    # loading: model, language models, dictionaries and Apertium's pipelines (several seconds on a busy machine)
    with slowly_loading_app(tmp_path, ready_wait=30) as (client, gate):
        assert client.get("/ready").status_code == 503  # readiness itself never waits
        opened = threading.Timer(0.5, gate.set)
        opened.start()
        assert client.get("/search", params={"q": "x"}).status_code == 200
        assert gate.is_set()  # it was held until the load could finish
        opened.join()


def test_keys_endpoints(api):
    created = api.post("/keys", "admin", json={"name": "trainer-1", "role": "contributor", "clearance": "restricted"})
    assert created.status_code == 201 and created.json()["key"].startswith("pkb_")
    key = created.json()["key"]
    assert (
        api.client.get("/search", params={"q": "cocaine"}, headers={"Authorization": f"Bearer {key}"}).status_code
        == 200
    )
    listed = api.get("/keys", "admin").json()
    assert "trainer-1" in {k["name"] for k in listed} and all("key" not in k and "hash" not in k for k in listed)
    assert api.post("/keys", "admin", json={"name": "trainer-1"}).status_code == 409
    assert api.delete("/keys/trainer-1", "admin").status_code == 200
    assert api.client.get("/search", params={"q": "x"}, headers={"Authorization": f"Bearer {key}"}).status_code == 401
    stored = (api.settings.data / "service.sqlite3").read_bytes()
    assert key.encode() not in stored and key.split("_", 2)[2].encode() not in stored  # the secret may hold "_"


def test_openapi_and_docs(api):
    spec = api.get("/openapi.json").json()
    for path in (
        "/search",
        "/documents",
        "/documents/{doc_id}",
        "/documents/{doc_id}/file",
        "/chunks/{chunk_id}",
        "/chunks/{chunk_id}/similar",
        "/jobs/{job_id}",
        "/health",
        "/ready",
        "/metrics",
    ):
        assert path in spec["paths"], path
    for page in ("/docs", "/redoc"):
        html = api.get(page).text
        assert "/openapi.json" in html
        assert "http://" not in html and "https://" not in html.replace("https://swagger.io", ""), page
    docs = api.get("/docs").text
    for asset in ("/docs-assets/swagger-ui-bundle.js", "/docs-assets/swagger-ui.css"):
        assert asset in docs and api.get(asset).status_code == 200
    assert "/docs-assets/redoc.standalone.js" in api.get("/redoc").text
    assert api.get("/docs-assets/redoc.standalone.js").status_code == 200


def test_me_reports_the_caller(api):
    assert api.get("/me").json() == {
        "name": "anonymous",
        "role": "reader",
        "clearance": "public",
        "anonymous": True,
        "can_upload": False,
        "via": "anonymous",
    }
    me = api.get("/me", "contrib_r").json()
    assert (me["name"], me["role"], me["clearance"], me["can_upload"]) == (
        "contrib_r",
        "contributor",
        "restricted",
        True,
    )
    assert api.get("/me", "reader").json()["can_upload"] is False
    assert api.client.get("/me", headers={"Authorization": "Bearer pkb_bad_key"}).status_code == 401


def test_one_filter_vocabulary_with_old_names_deprecated(api):
    """GET and POST take the same filter names and year syntax; old names still work and say they are deprecated."""
    new_get = api.get("/search", params={"q": "cash couriers", "type": "guideline", "year": "2023-"})
    new_post = api.post("/search", json={"q": "cash couriers", "filters": {"type": ["guideline"], "year": "2023-"}})
    old_get = api.get("/search", params={"q": "cash couriers", "type": "guideline", "year_min": 2023})
    old_post = api.post(
        "/search", json={"query": "cash couriers", "filters": {"type": ["guideline"], "year_min": 2023}}
    )
    ids = [[h["chunk_id"] for h in r.json()["results"]] for r in (new_get, new_post, old_get, old_post)]
    assert ids[0] and all(x == ids[0] for x in ids)
    assert all(h["year"] >= 2023 for h in new_get.json()["results"])
    for r in (new_get, new_post):
        assert "Deprecation" not in r.headers and "Warning" not in r.headers
    for r, old in ((old_get, "year_min"), (old_post, "query")):
        assert r.headers["Deprecation"].startswith("@")
        assert 'rel="deprecation"' in r.headers["Link"] and "/docs" in r.headers["Link"]
        assert r.headers["Warning"].startswith("299 ") and old in r.headers["Warning"]
    assert "year=2020-2025" in old_post.headers["Warning"] and "'query'" in old_post.headers["Warning"]
    until = api.get("/search", params={"q": "cash couriers", "year": "-2023", "k": 50}).json()["results"]
    assert until and all(h["year"] is not None and h["year"] <= 2023 for h in until)
    docs = api.get("/documents", params={"year": "2024"})
    assert docs.json()["items"] and all(d["year"] == 2024 for d in docs.json()["items"])
    assert "Deprecation" in api.get("/documents", params={"year_max": "2024"}).headers
    bad = api.get("/search", params={"q": "x", "colour": "red"}).json()
    assert "year_min" not in bad["detail"] and "year" in bad["detail"]


def test_synonyms_editions_and_regions_in_the_api(api):
    body = api.get("/search", params={"q": "smurfing and hawala", "mode": "lexical"}).json()
    assert "structuring" in body["query_expansion"] and "informal value transfer system" in body["query_expansion"]
    assert api.get("/search", params={"q": "cash couriers", "mode": "dense"}).json()["query_expansion"] == []
    old, new = api.doc_id("cft-good-practice-2023.pdf"), api.doc_id("cft-good-practice-2025.pdf")
    assert api.get(f"/documents/{old}").json()["superseded_by"]["document_id"] == new
    assert api.get(f"/documents/{new}").json()["superseded_by"] is None
    raw = api.post("/search", json={"q": "undeclared cash couriers border crossing", "k": 20}).json()
    assert all(h["region"] in ("body", "footnote", "contents", "index", "references") for h in raw["results"])
    current = api.get(
        "/search", params={"q": "undeclared cash couriers border crossing", "current": "true", "k": 20}
    ).json()
    assert current["results"] and old not in {h["document_id"] for h in current["results"]}
    posted = api.post("/search", json={"q": "undeclared cash couriers", "filters": {"current": True}}).json()
    assert old not in {h["document_id"] for h in posted["results"]}
    assert api.get("/search", params={"q": "cash", "current": "maybe"}).status_code == 422


# -- search profile (index/profile.py) ---------------------------------------------------------------------------
def stage_count(metrics: str, stage: str) -> float:
    """Observations of a search stage in the /metrics exposition text (0 before the first)."""
    for line in metrics.splitlines():
        if line.startswith(f'pactkb_search_stage_seconds_count{{stage="{stage}"}}'):
            return float(line.split()[-1])
    return 0.0


def test_search_returns_its_time_per_stage_only_when_asked(api):
    plain = api.get("/search", params={"q": "cash couriers"}).json()
    assert "timings" not in plain
    got = api.get("/search", params={"q": "cash couriers", "profile": "true"}).json()
    t = got["timings"]
    assert {"encode", "dense", "lexical", "fusion", "collapse", "snippets", "rows", "other", "total"} <= set(t)
    assert all(v >= 0 for v in t.values())
    assert sum(v for k, v in t.items() if k != "total") == pytest.approx(t["total"], abs=0.1)
    assert [h["chunk_id"] for h in got["results"]] == [h["chunk_id"] for h in plain["results"]]
    body = api.post("/search", json={"q": "cash couriers", "mode": "lexical", "profile": True}).json()
    assert body["timings"]["lexical"] > 0 and body["timings"]["dense"] == 0
    assert "timings" not in api.post("/search", json={"q": "cash couriers"}).json()


def test_metrics_keep_a_histogram_per_search_stage(api):
    before = api.get("/metrics", "admin").text
    api.get("/search", params={"q": "cash couriers"})
    api.post("/search", json={"q": "money laundering", "mode": "lexical"})
    after = api.get("/metrics", "admin").text
    assert stage_count(after, "total") == stage_count(before, "total") + 2
    assert stage_count(after, "lexical") == stage_count(before, "lexical") + 2
    assert stage_count(after, "dense") == stage_count(before, "dense") + 1  # the lexical search has no dense stage
    assert 'pactkb_search_stage_seconds_bucket{le="0.001",stage="encode"}' in after


def test_every_page_of_a_search_reports_the_same_total_facets_and_relation(api):
    pages = [api.get("/search", params={"q": "cash couriers border", "k": 3, "offset": o}).json() for o in (0, 3, 6)]
    assert len({p["total"] for p in pages}) == 1 and pages[0]["total"] > 6
    assert all(p["facets"] == pages[0]["facets"] for p in pages)
    assert {p["total_relation"] for p in pages} == {"eq"}  # the sample corpus is within the shared depth: exact
    posted = api.post("/search", json={"query": "cash couriers border", "k": 3, "offset": 3}).json()
    assert posted["total"] == pages[0]["total"] and posted["total_relation"] == "eq"


def test_a_parameter_a_listing_or_search_does_not_take_is_refused_and_old_filter_names_still_filter(api):
    for url, params in [
        ("/documents", {"foo": "bar"}),
        ("/documents", {"q": "cash"}),
        ("/search", {"q": "cash", "foo": "bar"}),
    ]:
        r = api.get(url, params=params)
        bad = next(iter(set(params) - {"q"} if url == "/search" else params))
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == bad, (url, r.json())
        assert "allowed:" in r.json()["detail"] and "year_min" not in r.json()["detail"]
    new = api.get("/search", params={"q": "cash couriers", "type": "guideline", "k": 20}).json()["results"]
    for old in ({"doc_type": "guideline"},):
        r = api.get("/search", params={"q": "cash couriers", "k": 20, **old})
        assert [h["chunk_id"] for h in r.json()["results"]] == [h["chunk_id"] for h in new]
        assert "Deprecation" in r.headers
    for old, new_name, value in [
        ("lang", "language", "en"),
        ("year_from", "year", "2024-"),
        ("year_to", "year", "-2023"),
    ]:
        got = api.get("/search", params={"q": "cash couriers", "k": 20, old: value.strip("-")}).json()["results"]
        want = api.get("/search", params={"q": "cash couriers", "k": 20, new_name: value}).json()["results"]
        assert got and [h["chunk_id"] for h in got] == [h["chunk_id"] for h in want], old
    both = {"q": "cash couriers", "k": 20, "year_min": 2000, "year_from": 2024}  # two old names: a year meets both
    got = api.get("/search", params=both).json()["results"]
    want = api.get("/search", params={"q": "cash couriers", "k": 20, "year": "2024-"}).json()["results"]
    assert got and [h["chunk_id"] for h in got] == [h["chunk_id"] for h in want]
    assert api.get("/search", params={**both, "year_min": 2030, "year_from": 2000}).json()["results"] == []
    bad = api.get("/search", params={"q": "cash couriers", "doc_type": "poem"}).json()
    assert bad["errors"][0]["field"] == "filters.doc_type"  # named as sent, not as the new name
    doc = new[0]["document_id"]
    for old in ("doc", "document_id"):
        got = api.get("/search", params={"q": "cash couriers", "k": 20, old: doc}).json()["results"]
        assert got and {h["document_id"] for h in got} == {doc}, old
    listed = api.get("/documents", params={"doc_type": "guideline", "limit": 100})
    assert listed.status_code == 200 and "Deprecation" in listed.headers
    assert listed.json()["items"] and all(d["doc_type"] == "guideline" for d in listed.json()["items"])
    assert listed.json()["total"] < api.get("/documents", params={"limit": 100}).json()["total"]
    assert api.get("/documents", params={"year_from": "20x4"}).json()["errors"][0]["field"] == "year_from"
    one = api.get("/documents", params={"document": listed.json()["items"][0]["id"]}).json()
    assert one["total"] == 1 and one["items"][0]["id"] == listed.json()["items"][0]["id"]
    current = api.get("/documents", params={"current": "true", "limit": 100}).json()
    assert (
        0 < current["total"] < api.get("/documents", params={"limit": 100}).json()["total"]
    )  # a 2023 edition left out
    similar = api.get(f"/chunks/{new[0]['chunk_id']}/similar", params={"document": doc}).json()["results"]
    assert similar and {h["document_id"] for h in similar} == {doc}
    assert api.get(f"/chunks/{new[0]['chunk_id']}/similar", params={"foo": "1"}).json()["errors"][0]["field"] == "foo"


def test_post_search_takes_a_single_filter_value_and_a_numeric_year_and_names_an_unknown_value(api):
    listed = api.post("/search", json={"q": "cash couriers", "filters": {"type": ["guideline"], "year": "2023"}})
    single = api.post("/search", json={"q": "cash couriers", "filters": {"type": "guideline", "year": 2023}})
    assert single.status_code == 200, single.json()
    assert [h["chunk_id"] for h in single.json()["results"]] == [h["chunk_id"] for h in listed.json()["results"]]
    memo = api.post("/search", json={"q": "cash couriers", "filters": {"type": "memo"}}).json()
    assert memo["errors"][0]["field"] == "filters.type" and "memo" in memo["detail"]
