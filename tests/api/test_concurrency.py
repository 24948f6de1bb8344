"""Searches keep being answered while documents are uploaded, re-ingested and deleted; never a half state."""

import re
import threading

from pactkb.index.filters import Filters
from pactkb.index.kb import KnowledgeBase
from tests.api.conftest import PUBLIC


def versioned_pdf(make_pdf, name: str, version: str):
    topics = ["cash couriers", "bus terminals", "ferry ports", "declaration records", "detector dogs"]
    pages = [[f"Marker {version}: the evolving guideline on border couriers, chapter about {t}. " * 4] for t in topics]
    return make_pdf(name, pages)


def test_searches_during_uploads_reingestion_and_deletes(api, make_pdf, tmp_path):
    errors: list[str] = []
    stop = threading.Event()
    seen_versions: list[set[str]] = []
    folder_pdf = versioned_pdf(make_pdf, "evolving.pdf", "AAAA")
    kb = api.state.kb
    kb.indexer.ingest([folder_pdf])

    def searcher() -> None:
        while not stop.is_set():
            try:
                r = api.get(
                    "/search",
                    "admin",
                    params={"q": "marker evolving guideline border couriers", "k": 50, "mode": "lexical"},
                )
                if r.status_code != 200:
                    errors.append(f"search {r.status_code}: {r.text[:200]}")
                    continue
                hits = [h for h in r.json()["results"] if h["file"] == "evolving.pdf"]
                versions = {m for h in hits for m in re.findall(r"Marker (AAAA|BBBB)", h["text"])}
                seen_versions.append(versions)
                pages = sorted({h["page_start"] for h in hits})
                if hits and len(pages) != 5:
                    errors.append(f"half-written document: pages {pages}")
                if len(versions) > 1:
                    errors.append(f"mixed versions {versions}")
                d = api.get("/search", "admin", params={"q": "guideline", "k": 20, "mode": "dense"})
                if d.status_code != 200:
                    errors.append(f"dense {d.status_code}")
            except Exception as exc:  # noqa: BLE001
                errors.append(repr(exc))

    threads = [threading.Thread(target=searcher) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for i in range(4):
            versioned_pdf(make_pdf, "evolving.pdf", "BBBB" if i % 2 == 0 else "AAAA")
            kb.indexer.ingest([folder_pdf])  # re-ingestion replaces the document in one transaction
            extra = make_pdf(f"extra{i}.pdf", [[f"Temporary guideline number {i} on couriers."]]).read_bytes()
            job = api.post(
                "/documents", "contrib", files={"files": (f"extra{i}.pdf", extra, "application/pdf")}, data=PUBLIC
            ).json()["job_id"]
            doc = api.state.jobs.wait(job)["files"][0]["document_id"]
            assert api.delete(f"/documents/{doc}", "admin").status_code == 204
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors, errors[:5]
    assert {"AAAA"} in seen_versions and {"BBBB"} in seen_versions  # both states were observed, never a mix
    other = KnowledgeBase(api.settings)
    from pactkb.index.check import check

    assert check(other.store, other.dense) == []
    assert other.searcher.search("temporary guideline", k=10, filters=Filters(), mode="lexical").results == [] or all(
        "Temporary" not in h.text for h in other.searcher.search("temporary guideline", k=10, mode="lexical").results
    )
