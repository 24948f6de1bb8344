"""Documents: list, view, download the original, chunks, upload (background job), edit metadata, delete.

A document above the caller's clearance answers 404 exactly like a missing one.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response
from fastapi import Path as FastPath
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from pypdf import PdfReader
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.types import Message, Receive

from pactkb.api.auth import Principal
from pactkb.api.deprecation import announce_filters
from pactkb.api.deps import NOT_FOUND, caller, file_url, link_holder, note, ready_kb, require, resolve_caller, state
from pactkb.api.errors import ValidationProblem, reject_unknown_parameters
from pactkb.api.routes.search import corpus_languages
from pactkb.api.schemas import (
    LANGUAGE_HELP,
    YEAR_HELP,
    ChunkList,
    ChunkModel,
    DocumentDetail,
    DocumentList,
    DocumentPatch,
    DocumentSummary,
    PageInfo,
    Superseded,
    TocEntry,
)
from pactkb.index.filters import DEPRECATED_FILTERS, FILTER_NAMES, FilterError, Filters
from pactkb.index.kb import KnowledgeBase
from pactkb.index.preview import FORMATS, PreviewError, PreviewRequest
from pactkb.index.store import DOCUMENT_ORDER, DocumentRecord
from pactkb.ingest.chunk import overlap_length
from pactkb.ingest.language import stored_language
from pactkb.ingest.manifest import (
    normalize_area,
    normalize_doc_type,
    parse_areas,
    unknown_area,
    unknown_doc_type,
)
from pactkb.ingest.pdf import looks_like_pdf
from pactkb.settings import MAX_PAGE_SIZE, SENSITIVITY_LEVELS

router = APIRouter(tags=["documents"])
MAX_OFFSET = 1_000_000_000  # far beyond any store, well inside SQLite integers (a larger offset is a 422, not a 500)
MAX_FILES = 20
FORM_OVERHEAD = 256 * 1024  # multipart headers and metadata fields besides the files themselves
MEDIA = {"pdf": "application/pdf", "markdown": "text/markdown; charset=utf-8", "text": "text/plain; charset=utf-8"}
_BAD_NAME = re.compile(r"[/\\\x00-\x1f\x7f]|^\.+$|\.\.|%(?:2f|5c|00|2e%2e)", re.IGNORECASE)


def visible_document(kb: KnowledgeBase, doc_id: str, principal: Principal | None) -> DocumentRecord:
    """The document if it exists and the caller may see it; otherwise 404 (the same answer either way)."""
    rec = kb.store.document(doc_id)
    if rec is None or principal is None or not principal.sees(rec.sensitivity):
        raise HTTPException(404, NOT_FOUND)
    return rec


def summary(request: Request, rec: DocumentRecord, principal: Principal) -> DocumentSummary:
    """A document in API form."""
    skip = ("file_url", "pages", "owner")
    fields = {k: getattr(rec, k) for k in DocumentSummary.model_fields if k not in skip and hasattr(rec, k)}
    return DocumentSummary(
        **fields,
        pages=rec.pages,
        file_url=file_url(request, rec.id, principal),
        owner=rec.owner if shows_owner(principal, rec) else None,
    )


def shows_owner(principal: Principal, rec: DocumentRecord) -> bool:
    """Uploaders' account names are shown to admins and to the uploader only."""
    return not principal.anonymous and (principal.can("admin") or rec.owner == principal.name)


LIST_PARAMS = {"title", "sort", "offset", "limit", *FILTER_NAMES, *DEPRECATED_FILTERS}  # GET /documents' parameters


@router.get("/documents", response_model=DocumentList, summary="List documents")
def list_documents(
    request: Request,
    response: Response,
    type: Annotated[list[str] | None, Query()] = None,  # noqa: A002
    area: Annotated[list[str] | None, Query()] = None,
    language: Annotated[list[str] | None, Query(description=LANGUAGE_HELP)] = None,
    publisher: Annotated[list[str] | None, Query()] = None,
    sensitivity: Annotated[list[str] | None, Query()] = None,
    year: Annotated[str | None, Query(max_length=20, description=YEAR_HELP)] = None,
    year_min: Annotated[int | None, Query(ge=1800, le=2200, deprecated=True, description="Use year=2020-.")] = None,
    year_max: Annotated[int | None, Query(ge=1800, le=2200, deprecated=True, description="Use year=-2025.")] = None,
    document: Annotated[list[str] | None, Query(description="Document id(s).")] = None,
    current: Annotated[bool | None, Query(description="true: current editions only.")] = None,
    title: Annotated[str | None, Query(max_length=200, description="Substring of the title.")] = None,
    sort: Annotated[str, Query(pattern=f"^({'|'.join(DOCUMENT_ORDER)})$")] = "title",
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
    principal: Principal = Depends(caller),
) -> DocumentList:
    """Documents the caller may see, filtered and paginated (the filter names and values are GET /search's)."""
    reject_unknown_parameters(request, LIST_PARAMS, LIST_PARAMS - set(DEPRECATED_FILTERS))
    kb = state(request).kb
    old = {n: request.query_params.getlist(n) for n in set(DEPRECATED_FILTERS) - {"year_min", "year_max"}}
    announce_filters(request, response, request.query_params.keys())
    try:
        filters = Filters.from_mapping(
            {
                "type": type,
                "area": area,
                "language": language,
                "publisher": publisher,
                "sensitivity": sensitivity,
                "year": year,
                "year_min": year_min,
                "year_max": year_max,
                "document": document,
                "current": "true" if current else None,
                **{name: values for name, values in old.items() if values},  # old names, checked as the new ones
            },
            corpus_languages(kb, principal),
        )
    except FilterError as exc:
        raise ValidationProblem(exc.field, exc.reason) from exc
    total, records = kb.store.list_documents(filters.with_clearance(principal.clearance), title, sort, limit, offset)
    items = [summary(request, rec, principal) for rec in records]
    note(
        request,
        "list_documents",
        filters={k: v for k, v in request.query_params.items()},
        document_ids=[i.id for i in items],
    )
    return DocumentList(total=total, offset=offset, limit=limit, items=items)


@router.get("/documents/{doc_id}", response_model=DocumentDetail, summary="One document")
def get_document(request: Request, doc_id: str, principal: Principal = Depends(caller)) -> DocumentDetail:
    """Metadata, pages, table of contents and chunk count."""
    kb = state(request).kb
    rec = visible_document(kb, doc_id, principal)
    pages = [
        PageInfo(
            number=p["number"], label=p["label"], ocr=bool(p["ocr"]), scanned=bool(p["scanned"]), chars=len(p["text"])
        )
        for p in kb.store.pages(doc_id)
    ]
    newer = kb.store.newest_edition(rec, Filters(clearance=principal.clearance))
    note(request, "view_document", document_ids=[doc_id])
    return DocumentDetail(
        **summary(request, rec, principal).model_dump(),
        chunk_count=rec.chunk_count,
        page_list=pages,
        toc=[TocEntry(**t) for t in rec.toc],
        warnings=rec.warnings,
        size=rec.size,
        superseded_by=Superseded(document_id=newer["id"], title=newer["title"], year=newer["year"]) if newer else None,
    )


@router.get("/documents/{doc_id}/chunks", response_model=ChunkList, summary="A document's chunks")
def document_chunks(
    request: Request,
    doc_id: str,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    principal: Principal = Depends(caller),
) -> ChunkList:
    """The document's passages in reading order; `overlap` says how much of each repeats the one before."""
    kb = state(request).kb
    rec = visible_document(kb, doc_id, principal)
    rows = kb.store.doc_chunks(doc_id)
    url = file_url(request, doc_id, principal)
    items = [
        ChunkModel(
            id=r["id"],
            document_id=doc_id,
            title=rec.title,
            ord=r["ord"],
            text=r["text"],
            page_start=r["page_start"],
            page_end=r["page_end"],
            label_start=r["label_start"],
            label_end=r["label_end"],
            section=r["section"],
            n_tokens=r["n_tokens"],
            file_url=url,
            page_url=f"{url}#page={r['page_start']}",
            overlap=overlap_length(rows[i - 1]["text"], r["text"]) if i else 0,
        )
        for i, r in enumerate(rows[offset : offset + limit], start=offset)
    ]
    note(request, "view_document", document_ids=[doc_id])
    return ChunkList(total=len(rows), offset=offset, limit=limit, items=items)


def stored_original(
    request: Request, doc_id: str, token: str | None, authorization: str | None
) -> tuple[DocumentRecord, Path]:
    """The document whose original the caller (or the holder of the signed link `token`) may read, with the original's
    file (a replica fetches it from the shared store), or 404 as if it were missing; a link stands in for the key, so it
    works when anonymous access is off."""
    principal = link_holder(request, doc_id, token) if token else resolve_caller(request, authorization)
    kb = state(request).kb
    rec = visible_document(kb, doc_id, principal)
    path = kb.store.original(rec.stored_path) if rec.stored_path else None
    if path is None:
        raise HTTPException(404, "this document has no stored original")
    return rec, path


def readable_original(
    request: Request,
    doc_id: str,
    token: Annotated[str | None, Query(max_length=1000)] = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> tuple[DocumentRecord, Path]:
    """`stored_original` as a dependency: FastAPI runs it before it validates the route's own parameters, so a bad
    credential is refused (401) before a bad page or width (422), and a rejected request is audited as its caller."""
    return stored_original(request, doc_id, token, authorization)


@router.get(
    "/documents/{doc_id}/file",
    summary="The original file",
    response_class=FileResponse,
    responses={200: {"content": {"application/pdf": {}}}},
)
def document_file(
    request: Request,
    doc_id: str,
    token: Annotated[str | None, Query(max_length=1000)] = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> FileResponse:
    """The original as uploaded or ingested; open it at a page with #page=N. A signed `token` (from search
    results and document views) stands in for the API key, so links work in a browser tab (also when anonymous
    access is off); the download is audited as the principal the link was issued to."""
    rec, path = stored_original(request, doc_id, token, authorization)
    note(request, "download", document_ids=[doc_id])
    name = rec.source_name if Path(rec.source_name).suffix else f"{rec.source_name}.pdf"
    return FileResponse(
        path,
        media_type=MEDIA.get(rec.kind, "application/octet-stream"),
        filename=name,
        content_disposition_type="inline",
    )


@router.get(
    "/documents/{doc_id}/pages/{page}/image",
    summary="A page rendered as an image (preview)",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "image/webp": {}}}, 304: {}},
)
async def page_image(
    request: Request,
    doc_id: str,
    original: Annotated[tuple[DocumentRecord, Path], Depends(readable_original)],
    page: Annotated[int, FastPath(ge=1, le=100_000)],
    width: Annotated[int, Query(ge=100, description="Pixels (at most PACTKB_PREVIEW_MAX_WIDTH).")] = 800,
    format: Annotated[str, Query(pattern="^(png|webp)$")] = "png",  # noqa: A002 - the public parameter name
    chunk: Annotated[int | None, Query(ge=1, description="Highlight this passage of the document on the page.")] = None,
) -> Response:
    """The page as PNG or WebP, optionally with a passage highlighted where its text is on the page (no highlight
    when it cannot be placed exactly). Readable exactly when the original is (404 otherwise); cached (ETag). The
    credential or signed `token` is checked before the other parameters."""
    st = state(request)
    rec, path = original
    if width > st.settings.preview_max_width:
        raise ValidationProblem("width", f"at most {st.settings.preview_max_width} pixels")
    if rec.kind != "pdf" or page > rec.pages:
        raise HTTPException(404, "no such page image")
    highlight = ""
    if chunk is not None:
        row = st.kb.store.chunk_of_document(chunk, doc_id)
        if row is None:
            raise HTTPException(404, "passage not found")
        highlight = row["text"] if row["page_start"] <= page <= row["page_end"] else ""
    req = PreviewRequest(path, rec.sha256, page, width, format, highlight)
    etag = f'"{req.key()}"'
    note(request, "view_page", document_ids=[doc_id], detail=f"page {page}")
    headers = {"ETag": etag, "Cache-Control": "private, max-age=86400"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    try:
        data = await run_in_threadpool(st.previews.image, req)
    except PreviewError as exc:
        raise HTTPException(422, f"page {page} cannot be shown: {exc}") from exc
    return Response(data, media_type=FORMATS[format], headers=headers)


# -- upload ------------------------------------------------------------------------------------
def _safe_name(raw: str | None, field: str) -> str:
    """The upload's file name, rejected (422) if empty or if it tries to escape its folder."""
    name = unicodedata.normalize("NFC", raw or "").strip()
    if not name:
        raise ValidationProblem(field, "file name is missing")
    if _BAD_NAME.search(name) or len(name) > 255:
        raise ValidationProblem(field, f"file name {name!r} is not allowed (no paths, '..' or control characters)")
    return name


def _check_pdf(data: bytes, name: str, field: str) -> None:
    """422 unless the bytes are a readable PDF (checked by content, not by name)."""
    if not looks_like_pdf(data[:1024]):
        raise ValidationProblem(field, f"{name}: not a PDF (the content has no %PDF- signature)", status=415)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ValidationProblem(field, f"{name}: password-protected PDF (remove the password and upload again)")
        if len(reader.pages) == 0:
            raise ValidationProblem(field, f"{name}: the PDF has no pages")
    except ValidationProblem:
        raise
    except Exception as exc:
        raise ValidationProblem(field, f"{name}: corrupt PDF ({type(exc).__name__})") from exc


def _language(field: str, value: str) -> str:
    """The stored code of a language someone sets ("Serbian", "srp", "sr-Latn" -> "sr"), 422 naming the field for a
    value that names no language."""
    try:
        return stored_language(value)
    except ValueError as exc:
        raise ValidationProblem(field, str(exc)) from exc


def _metadata(form: Any, principal: Principal) -> dict[str, Any]:
    """Validated metadata overrides from the form fields."""
    out: dict[str, Any] = {}
    allowed = {
        "files",
        "file",
        "title",
        "publisher",
        "year",
        "type",
        "doc_type",
        "area",
        "areas",
        "language",
        "sensitivity",
    }
    unknown = sorted(set(form.keys()) - allowed)
    if unknown:
        raise ValidationProblem(unknown[0], f"unknown field {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")
    for key in ("title", "publisher", "language"):
        value = (form.get(key) or "").strip()
        if len(value) > 500:
            raise ValidationProblem(key, "too long (500 characters at most)")
        if value:
            out[key] = _language(key, value) if key == "language" else value
    if year := (form.get("year") or "").strip():
        if not re.fullmatch(r"\d{4}", year) or not 1800 <= int(year) <= 2200:
            raise ValidationProblem("year", f"{year!r} is not a year")
        out["year"] = int(year)
    if dtype := (form.get("type") or form.get("doc_type") or "").strip():
        norm = normalize_doc_type(dtype)
        if norm is None:
            raise ValidationProblem("type", unknown_doc_type(dtype))
        out["doc_type"] = norm
    areas: list[str] = []
    for raw in form.getlist("area") + form.getlist("areas"):
        try:
            areas.extend(a for a in parse_areas(str(raw)) if a not in areas)
        except ValueError as exc:
            raise ValidationProblem("area", str(exc)) from exc
    if areas:
        out["areas"] = areas
    sens = str(form.get("sensitivity") or "").strip().lower()
    if not sens:  # fail closed: nothing becomes public by omission
        raise ValidationProblem("sensitivity", f"required: label the upload {', '.join(SENSITIVITY_LEVELS)}")
    if sens not in SENSITIVITY_LEVELS:
        raise ValidationProblem("sensitivity", f"{sens!r} is not one of {', '.join(SENSITIVITY_LEVELS)}")
    if not principal.sees(sens):
        raise ValidationProblem(
            "sensitivity", f"you cannot label a document {sens} (your clearance is {principal.clearance})", 403
        )
    out["sensitivity"] = sens
    return out


def bounded(receive: Receive, limit: int, message: str) -> Receive:
    """An ASGI receive that fails (413) as soon as more than `limit` body bytes arrive, so a chunked body without a
    Content-Length is never read (or spooled to disk) past the limit."""
    seen = 0

    async def limited() -> Message:
        nonlocal seen
        msg = await receive()
        if msg["type"] == "http.request":
            seen += len(msg.get("body", b""))
            if seen > limit:
                raise ValidationProblem("files", message, 413)
        return msg

    return limited


@router.post(
    "/documents",
    status_code=202,
    summary="Upload PDFs (ingested in the background)",
    responses={202: {"description": "Job created; poll /jobs/{id}"}},
)
async def upload(request: Request, principal: Principal = Depends(require("contributor"))) -> dict[str, Any]:
    """multipart/form-data: one or more `files` (PDF), the required `sensitivity` (public, restricted or confidential)
    and optional metadata fields title, publisher, year, type, area (repeat or separate with ;), language (a code or
    an English name, stored as its ISO 639-1 code: "Serbian", "srp", "sr-Latn" -> "sr"; else a 422).
    Returns a job to poll. The whole request may hold max_upload_mb (all files together)."""
    st = state(request)
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        raise HTTPException(415, "upload with Content-Type: multipart/form-data (field 'files')")
    limit = st.settings.max_upload_mb * 1024 * 1024
    too_large = f"request too large (the files of one upload may hold {st.settings.max_upload_mb} MB together)"
    length = request.headers.get("content-length")
    if length and (not length.isdigit() or int(length) > limit + FORM_OVERHEAD):  # refused before a byte is read
        raise ValidationProblem("files", too_large, 413)
    try:
        form = await Request(request.scope, bounded(request.receive, limit + FORM_OVERHEAD, too_large)).form(
            max_files=MAX_FILES, max_fields=50
        )
    except ValidationProblem:
        raise
    except Exception as exc:
        raise ValidationProblem("files", f"malformed multipart body: {exc}", 400) from exc
    meta = _metadata(form, principal)
    uploads = [f for f in form.getlist("files") + form.getlist("file") if isinstance(f, StarletteUpload)]
    if not uploads:
        raise ValidationProblem("files", "no file uploaded (send one or more PDFs in the 'files' field)")
    job_id, folder = st.jobs.new_dir()
    saved = []
    try:
        for i, up in enumerate(uploads):
            field = f"files[{i}]"
            name = _safe_name(up.filename, field)
            if up.size is not None and up.size > limit:
                raise ValidationProblem(
                    field, f"{name}: larger than the {st.settings.max_upload_mb} MB upload limit", 413
                )
            data = await up.read(limit + 1)
            if len(data) > limit:
                raise ValidationProblem(
                    field, f"{name}: larger than the {st.settings.max_upload_mb} MB upload limit", 413
                )
            if not data:
                raise ValidationProblem(field, f"{name}: empty file")
            await run_in_threadpool(_check_pdf, data, name, field)
            target = folder / f"{i:02d}-{re.sub(r'[^A-Za-z0-9._-]+', '_', name)[-120:]}"
            target.write_bytes(data)
            saved.append((name, target, meta))
    except BaseException:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
        raise
    st.jobs.create(job_id, principal.name, principal.clearance, saved)
    note(
        request,
        "upload",
        filters={k: v for k, v in meta.items()},
        detail=json.dumps([n for n, _, _ in saved], ensure_ascii=False),
        target=f"job:{job_id}",  # each file's outcome is audited under the same target when the job has run
    )
    return {"job_id": job_id, "status": "queued", "status_url": f"/jobs/{job_id}", "files": [n for n, _, _ in saved]}


# -- edit and delete ---------------------------------------------------------------------------
@router.patch("/documents/{doc_id}", response_model=DocumentSummary, summary="Edit metadata")
def patch_document(
    request: Request,
    doc_id: str,
    body: DocumentPatch,
    principal: Principal = Depends(require("contributor")),
    kb: KnowledgeBase = Depends(ready_kb),
) -> DocumentSummary:
    """Contributors edit their own uploads; admins edit any document. Edits survive re-ingestion."""
    rec = visible_document(kb, doc_id, principal)
    if not principal.can("admin") and rec.owner != principal.name:
        raise HTTPException(403, "contributors can edit only the documents they uploaded")
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise ValidationProblem("body", "nothing to change (send at least one field)")
    for key in ("title", "doc_type", "sensitivity"):
        if key in changes and changes[key] is None:
            raise ValidationProblem(key, "cannot be null")
    if "doc_type" in changes:
        norm = normalize_doc_type(changes["doc_type"] or "")
        if norm is None:
            raise ValidationProblem("doc_type", unknown_doc_type(changes["doc_type"] or ""))
        changes["doc_type"] = norm
    if changes.get("language") is not None:  # null clears it
        changes["language"] = _language("language", changes["language"])
    if "areas" in changes:
        areas = []
        for a in changes["areas"] or []:
            norm = normalize_area(a)
            if norm is None:
                raise ValidationProblem("areas", unknown_area(a))
            areas.append(norm)
        changes["areas"] = list(dict.fromkeys(areas))
    if "sensitivity" in changes and not principal.sees(changes["sensitivity"]):
        raise ValidationProblem("sensitivity", f"above your clearance ({principal.clearance})", 403)
    updated = kb.indexer.update_metadata(doc_id, changes)
    note(request, "edit", document_ids=[doc_id], detail=json.dumps(changes, ensure_ascii=False))
    if updated is None or not principal.sees(updated.sensitivity):
        raise HTTPException(404, NOT_FOUND)
    return summary(request, updated, principal)


@router.delete("/documents/{doc_id}", status_code=204, summary="Delete a document (admin)")
def delete_document(
    request: Request,
    doc_id: str,
    principal: Principal = Depends(require("admin")),
    kb: KnowledgeBase = Depends(ready_kb),
) -> Response:
    """Remove the document, its chunks, vectors and original."""
    visible_document(kb, doc_id, principal)
    kb.indexer.delete(doc_id)
    note(request, "delete", document_ids=[doc_id])
    return Response(status_code=204)
