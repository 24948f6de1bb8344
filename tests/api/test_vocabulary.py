"""One source per vocabulary: what the API serves to the page, and the query-length setting it enforces."""

from pactkb.api.auth import ROLES
from pactkb.ingest.types import AREAS, DOC_TYPES
from pactkb.settings import DEFAULT_MODE, SEARCH_MODES, SENSITIVITY_LEVELS
from tests.api.conftest import make_api


def test_the_page_gets_every_vocabulary_from_the_server_without_a_key(api):
    r = api.client.get("/vocabulary")
    assert r.status_code == 200
    assert r.json() == {
        "doc_types": list(DOC_TYPES),
        "areas": list(AREAS),
        "sensitivities": list(SENSITIVITY_LEVELS),
        "modes": list(SEARCH_MODES),
        "default_mode": DEFAULT_MODE,
        "roles": list(ROLES),
    }


def test_the_search_page_does_not_retype_the_vocabularies():
    from pathlib import Path

    import pactkb.api

    script = (Path(pactkb.api.__file__).parent / "web" / "app.js").read_text(encoding="utf-8")
    for values in (DOC_TYPES, AREAS, SENSITIVITY_LEVELS):
        assert not any(f"'{v}'" in script for v in values), values
    assert "'hybrid'" not in script and "apiUrl('vocabulary')" in script


def test_query_length_follows_the_setting(tmp_path, sample_dir):
    client, _, _ = make_api(tmp_path, sample_dir, max_query_chars=3000)
    try:
        long = "cash couriers " * 200  # 2800 characters: over the default, within this setting
        assert client.get("/search", params={"q": long, "k": 1}).status_code == 200
        r = client.post("/search", json={"q": long + "x" * 201})
        assert r.status_code == 422 and r.json()["errors"] == [
            {"field": "q", "message": "String should have at most 3000 characters"}
        ]
        r = client.get("/search", params={"q": "x" * 3001})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "q"
    finally:
        client.__exit__(None, None, None)
