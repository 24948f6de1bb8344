"""A document's passages read without the chunk overlap (GET /documents/{id}/chunks `overlap`)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from pactkb.api.app import create_app
from pactkb.index.kb import KnowledgeBase
from pactkb.ingest.chunk import overlap_length
from pactkb.settings import Settings


def test_overlap_length_finds_the_repeated_start_only():
    assert overlap_length("This is the present report. 2. The present report", "2. The present report covers") == 21
    assert overlap_length("Nothing in common here at all.", "Another passage entirely.") == 0
    assert overlap_length("ends with a", "a short shared letter") == 0  # too short to be the overlap


def test_document_passages_without_the_overlap(tmp_path):
    sentences = [f"Sentence {i} says something about border checks number {i}." for i in range(80)]
    (tmp_path / "long.md").write_text("# Long guide\n\n" + " ".join(sentences), encoding="utf-8")
    settings = Settings(data=tmp_path / "data", model="fake:64", parse_workers=0, chunk_tokens=60, chunk_overlap=15)
    KnowledgeBase(settings).indexer.ingest([tmp_path / "long.md"])
    with TestClient(create_app(settings, load_in_background=False)) as client:
        doc_id = client.get("/documents").json()["items"][0]["id"]
        items = client.get(f"/documents/{doc_id}/chunks", params={"limit": 200}).json()["items"]
        assert len(items) > 3 and items[0]["overlap"] == 0 and any(c["overlap"] > 0 for c in items)
        read = " ".join(c["text"][c["overlap"] :].strip() for c in items)
        for s in sentences:
            assert read.count(s) == 1, s
        page2 = client.get(f"/documents/{doc_id}/chunks", params={"offset": 2, "limit": 1}).json()["items"][0]
        assert page2["overlap"] == items[2]["overlap"]
