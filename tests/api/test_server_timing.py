"""The Server-Timing header (api/timing.py): each part of a request and each search stage, names and ms only."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from pactkb.api.app import create_app
from pactkb.api.timing import RequestTimer
from pactkb.index.profile import STAGES
from pactkb.settings import Settings

ENTRY = re.compile(r"^([a-z]+(?:\.[a-z]+)?);dur=(\d+\.\d\d)$")
ROUTE_PARTS = {"auth", "filters", "dispatch", "search", "response", "serialize", "audit", "other", "total"}
SEARCH_PARTS = {f"search.{s}" for s in (*STAGES, "other")}


def timing(response) -> dict[str, float]:
    """The Server-Timing header as {name: ms}; every entry must be `name;dur=ms` and nothing else."""
    entries = [e.strip() for e in response.headers["server-timing"].split(",")]
    parsed = [ENTRY.match(e) for e in entries]
    assert all(parsed), entries
    return {m.group(1): float(m.group(2)) for m in parsed if m}


def test_search_reports_each_part_and_stage(api):
    r = api.get("/search", "reader", params={"q": "cash couriers at the border", "mode": "hybrid"})
    assert r.status_code == 200
    parts = timing(r)
    assert {"auth", "filters", "dispatch", "search", "response", "serialize", "audit", "other", "total"} <= set(parts)
    assert {"search.encode", "search.dense", "search.lexical", "search.fusion", "search.snippets"} <= set(parts)
    assert set(parts) <= ROUTE_PARTS | SEARCH_PARTS
    assert parts["total"] >= parts["search"] >= parts["search.encode"]
    top = sum(v for k, v in parts.items() if "." not in k and k != "total")
    assert abs(top - parts["total"]) <= 0.01 * len(parts)  # the parts and `other` add up to the total (rounding)


def test_header_reveals_no_query_ids_or_counts(api):
    query = "strategic analysis carousel fraud"
    r = api.get("/search", "admin", params={"q": query, "k": 5})
    assert r.status_code == 200 and r.json()["results"]
    header = r.headers["server-timing"]
    assert all(ENTRY.match(e.strip()) for e in header.split(","))  # names and ms: no desc, no free text
    for hit in r.json()["results"]:
        assert hit["document_id"] not in header and hit["title"] not in header
    for word in query.split():
        assert word not in header
    assert "timings" not in r.json() or r.json()["timings"] is None  # the body's profile stays opt-in


def test_every_route_and_refusals_get_a_total(api):
    health = timing(api.get("/health"))
    assert set(health) == {"audit", "other", "total"}  # `audit` also counts the request metrics, kept for every route
    refused = api.client.get("/search", params={"q": "x"}, headers={"Authorization": "Bearer wrong"})
    assert refused.status_code == 401
    assert {"auth", "total"} <= set(timing(refused)) and not any(k.startswith("search") for k in timing(refused))


def test_off_by_setting(tmp_path, sample_dir):
    settings = Settings(data=tmp_path / "data", model="fake:64", parse_workers=0, server_timing=False)
    with TestClient(create_app(settings, load_in_background=False)) as client:
        r = client.get("/search", params={"q": "cash couriers"})
        assert r.status_code == 200 and "server-timing" not in r.headers


def test_timer_adds_repeated_parts_and_nests_search_stages():
    t = RequestTimer()
    t.add("auth", 1.0)
    t.add("auth", 0.5)
    t.add_search({"encode": 3.0, "dense": 0.0, "other": 0.25, "total": 4.0})
    header = t.header()
    names = [e.split(";")[0] for e in header.split(", ")]
    assert names == ["auth", "search", "search.encode", "search.other", "other", "total"]  # dense did not run
    assert "auth;dur=1.50" in header and "search;dur=4.00" in header


@pytest.mark.parametrize("who", [None, "reader"])
def test_search_hands_only_the_search_to_a_worker_thread(api, monkeypatch, who):
    """Authentication and readiness run on the event loop (an API key of the embedded store is an indexed lookup);
    each hop to a worker thread and back costs a request about a millisecond on a busy machine."""
    import anyio.to_thread

    hops: list[str] = []
    run_sync = anyio.to_thread.run_sync

    async def counting(func, *args, **kwargs):
        hops.append(getattr(func, "__name__", repr(func)))
        return await run_sync(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counting)
    r = api.get("/search", who, params={"q": "cash couriers at the border"})
    assert r.status_code == 200 and r.json()["results"]
    assert len(hops) == 1  # Searcher.search
    refused = api.client.get("/search", params={"q": "x"}, headers={"Authorization": "Bearer pactkb_bad_key"})
    assert refused.status_code == 401 and len(hops) == 1
