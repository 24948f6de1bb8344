"""Priority areas as the page shows them ("Fraud, economic and financial crime") and by short name."""

from __future__ import annotations

import json
from pathlib import Path

from pactkb.ingest.manifest import normalize_area, parse_areas
from pactkb.ingest.types import AREAS

LABELS = json.loads(
    (Path(__file__).resolve().parents[2] / "api" / "web" / "i18n" / "en.json").read_text(encoding="utf-8")
)


def test_every_label_the_page_shows_names_its_area():
    for area in AREAS:
        label = LABELS[f"area.{area}"]
        assert normalize_area(label) == area, label
        assert normalize_area(label.upper()) == area
    assert normalize_area("fraud") == AREAS[0] and normalize_area("terrorism") == "counter-terrorism"
    assert normalize_area("economic and financial crime") is None


def test_form_values_keep_commas_inside_a_label_and_split_lists():
    assert parse_areas("Fraud, economic and financial crime") == [AREAS[0]]
    assert parse_areas("fraud, economic and financial crime, migrant smuggling; cyber") == [
        AREAS[0],
        "migrant smuggling",
        "cyber-attacks",
    ]
    assert parse_areas("drugs, cyber") == ["drugs trafficking", "cyber-attacks"]


def test_search_takes_the_label_and_a_422_lists_the_allowed_areas(api):
    label = api.get("/search", params={"q": "cash", "area": LABELS[f"area.{AREAS[0]}"], "k": 20})
    short = api.get("/search", params={"q": "cash", "area": "fraud", "k": 20})
    assert label.status_code == 200 and label.json()["results"]
    assert [h["chunk_id"] for h in label.json()["results"]] == [h["chunk_id"] for h in short.json()["results"]]
    bad = api.get("/search", params={"q": "cash", "area": "economic and financial crime"})
    assert bad.status_code == 422
    detail = bad.json()["detail"]
    assert all(a in detail for a in AREAS) and "short name" in detail and "fraud" in detail


def test_upload_takes_the_label_with_its_comma(api, pdf_bytes):
    r = api.post(
        "/documents",
        "contrib",
        files={"files": ("labelled.pdf", pdf_bytes, "application/pdf")},
        data={"area": "Fraud, economic and financial crime", "title": "Labelled", "sensitivity": "public"},
    )
    assert r.status_code == 202, r.text
    job = api.state.jobs.wait(r.json()["job_id"])
    doc = api.get(f"/documents/{job['files'][0]['document_id']}", "contrib").json()
    assert doc["areas"] == [AREAS[0]]
    bad = api.post(
        "/documents",
        "contrib",
        files={"files": ("x.pdf", pdf_bytes, "application/pdf")},
        data={"area": "fraud, astrology", "sensitivity": "public"},
    )
    assert bad.status_code == 422 and "unknown area 'astrology' (allowed:" in bad.json()["detail"]


def test_every_region_a_result_can_carry_has_a_label_on_the_page():
    from pactkb.ingest.regions import BODY, REGIONS

    assert all(LABELS.get(f"region_{r}") for r in REGIONS if r != BODY)
