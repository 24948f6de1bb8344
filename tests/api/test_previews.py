"""Page previews: GET /documents/{id}/pages/{n}/image, readable exactly when the original is, cached, audited,
with the passage highlighted from the page's own text positions (or not at all)."""

from __future__ import annotations

import io

from PIL import Image

from pactkb.api.audit import export
from pactkb.index.preview import find_passage

from .conftest import CONFIDENTIAL, RESTRICTED

PUBLIC = "cft-good-practice-2025.pdf"


def yellow_pixels(data: bytes) -> int:
    """Pixels of the highlight's colour (yellow over white or over black text)."""
    img = Image.open(io.BytesIO(data)).convert("RGB")
    return sum(1 for r, g, b in img.getdata() if r > 200 and g > 180 and b < 160)


def hit_on_page(api, query: str, file: str) -> dict:
    """A search result from the given file."""
    res = api.get("/search", params={"q": query, "k": 50}).json()["results"]
    return next(h for h in res if h["file"] == file)


def test_a_public_page_renders_at_the_width_asked_as_png_or_webp(api):
    doc = api.doc_id(PUBLIC)
    r = api.get(f"/documents/{doc}/pages/1/image", params={"width": 400})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    img = Image.open(io.BytesIO(r.content))
    assert img.size[0] == 400 and img.size[1] > 400  # A4 portrait
    webp = api.get(f"/documents/{doc}/pages/1/image", params={"width": 300, "format": "webp"})
    assert webp.headers["content-type"] == "image/webp" and Image.open(io.BytesIO(webp.content)).format == "WEBP"
    assert yellow_pixels(r.content) == 0


def test_previews_are_cached_with_an_etag_and_bounded_width(api):
    doc = api.doc_id(PUBLIC)
    first = api.get(f"/documents/{doc}/pages/2/image")
    etag = first.headers["etag"]
    again = api.get(f"/documents/{doc}/pages/2/image", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert list((api.settings.data / "previews").glob("*.png"))
    assert api.get(f"/documents/{doc}/pages/2/image", params={"width": 5000}).status_code == 422
    assert api.get(f"/documents/{doc}/pages/2/image", params={"width": 20}).status_code == 422
    assert api.get(f"/documents/{doc}/pages/2/image", params={"format": "gif"}).status_code == 422


def test_clearance_is_checked_exactly_like_the_file(api):
    restricted, confidential = api.doc_id(RESTRICTED), api.doc_id(CONFIDENTIAL)
    for doc, who, status in [
        (restricted, None, 404),
        (restricted, "reader", 404),
        (restricted, "reader_r", 200),
        (confidential, "reader_r", 404),
        (confidential, "admin", 200),
    ]:
        image = api.get(f"/documents/{doc}/pages/1/image", who, params={"width": 200})
        assert image.status_code == api.get(f"/documents/{doc}/file", who).status_code == status, (doc, who)
    hidden = api.get(f"/documents/{restricted}/pages/1/image", "reader").json()
    missing = api.get("/documents/ffffffffffffffff/pages/1/image", "reader").json()
    assert hidden == missing
    doc = api.doc_id(PUBLIC)
    assert api.get(f"/documents/{doc}/pages/999/image").status_code == 404
    md = api.doc_id("nasoki-trgovija-so-droga-mk.md")
    assert api.get(f"/documents/{md}/pages/1/image").status_code == 404


def test_signed_link_token_opens_the_preview_without_a_key(api):
    doc = api.doc_id(RESTRICTED)
    res = api.get("/search", "reader_r", params={"q": "criminal networks", "type": "threat assessment"}).json()
    hit = next(h for h in res["results"] if h["document_id"] == doc)
    token = hit["file_url"].split("token=")[1]
    assert api.get(f"/documents/{doc}/pages/1/image", params={"token": token, "width": 200}).status_code == 200
    assert api.get(f"/documents/{doc}/pages/1/image", params={"token": token + "x"}).status_code == 404


def test_the_passage_is_highlighted_on_its_page_and_the_view_is_audited(api):
    hit = hit_on_page(api, "cash couriers declarations threshold", PUBLIC)
    doc, page = hit["document_id"], hit["page_start"]
    plain = api.get(f"/documents/{doc}/pages/{page}/image", params={"width": 600})
    marked = api.get(f"/documents/{doc}/pages/{page}/image", "reader", params={"width": 600, "chunk": hit["chunk_id"]})
    assert marked.status_code == 200 and marked.headers["etag"] != plain.headers["etag"]
    assert yellow_pixels(marked.content) > 2000 and yellow_pixels(plain.content) == 0
    other_page = 1 if page != 1 else 2  # a passage not on the page asked for: no highlight
    assert (
        yellow_pixels(
            api.get(
                f"/documents/{doc}/pages/{other_page}/image", params={"width": 600, "chunk": hit["chunk_id"]}
            ).content
        )
        == 0
    )
    foreign = hit_on_page(api, "migrant smuggling", "empact-booklet-migrant-smuggling-2024.pdf")["chunk_id"]
    assert api.get(f"/documents/{doc}/pages/{page}/image", params={"chunk": foreign}).status_code == 404
    api.state.audit.flush()
    views = [r for r in export(api.settings.data) if r["action"] == "view_page"]
    assert any(r["actor"] == "reader" and r["document_ids"] == [doc] and r["detail"] == f"page {page}" for r in views)


def test_find_passage_places_only_what_it_can_place_exactly():
    page = (
        "Header line\r\n2. Cash couriers and declarations\r\nCash remains the preferred means of moving small amounts."
    )
    span = find_passage(
        page, "2. Cash couriers and declarations Cash remains the preferred means of moving small amounts."
    )
    assert (
        span is not None
        and page[span[0] : span[1]].startswith("2. Cash couriers")
        and page[span[0] : span[1]].endswith("amounts")
    )
    tail = find_passage(page, "Something on the page before. Cash remains the preferred means of moving small amounts.")
    assert tail is None or page[tail[0] : tail[1]].startswith("Cash remains")
    assert find_passage(page, "Nothing like this is written on the page at all.") is None
    repeated = "the same four words here. " * 3
    assert (
        find_passage(repeated, "the same four words here.") is None
    )  # ambiguous: no highlight rather than a wrong one


def test_the_credential_is_checked_before_the_pages_parameters_and_a_rejection_is_audited_as_its_caller(api):
    doc = api.doc_id(PUBLIC)
    bad_key = {"Authorization": "Bearer pkb_deadbeef_notasecret"}
    for url, params in [(f"/documents/{doc}/pages/0/image", {}), (f"/documents/{doc}/pages/1/image", {"width": 99999})]:
        assert api.get(url, headers=bad_key, params=params).status_code == 401
        assert api.get(url, "reader", params=params).status_code == 422
    restricted = api.doc_id(RESTRICTED)  # hidden from the caller: 404 as if missing, whatever else is wrong
    assert api.get(f"/documents/{restricted}/pages/0/image", "reader").status_code == 404
    api.state.audit.flush()
    rows = [r for r in export(api.settings.data) if r["route"] == "/documents/{doc_id}/pages/{page}/image"]
    assert [r["actor"] for r in rows if r["status"] == 422] == ["reader", "reader"]
    assert [r["actor"] for r in rows if r["status"] == 401] == ["unknown-key:deadbeef"] * 2
