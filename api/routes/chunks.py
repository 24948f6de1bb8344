"""Chunks: one passage, and passages like it ('more like this')."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from pactkb.api.auth import Principal
from pactkb.api.deprecation import announce_filters
from pactkb.api.deps import caller, file_url, note, ready_kb
from pactkb.api.errors import ValidationProblem, reject_unknown_parameters
from pactkb.api.routes.search import response, shown_documents, to_filters
from pactkb.api.schemas import LANGUAGE_HELP, YEAR_HELP, ChunkModel, SearchResponse
from pactkb.index.filters import DEPRECATED_FILTERS, FILTER_NAMES
from pactkb.index.kb import KnowledgeBase
from pactkb.index.results import SearchError
from pactkb.settings import MAX_OFFSET, MAX_PAGE_SIZE

router = APIRouter(tags=["chunks"])
ChunkId = Annotated[int, Path(ge=1, le=2**62, description="A chunk id from search results.")]
NOT_FOUND = "chunk not found"


@router.get("/chunks/{chunk_id}", response_model=ChunkModel, summary="One chunk")
def get_chunk(
    request: Request, chunk_id: ChunkId, principal: Principal = Depends(caller), kb: KnowledgeBase = Depends(ready_kb)
) -> ChunkModel:
    """A passage with its page span and section (404 if it belongs to a document above your clearance)."""
    row = kb.store.visible_chunk(chunk_id, to_filters({}, principal))
    if row is None:
        raise HTTPException(404, NOT_FOUND)
    url = file_url(request, row["doc_id"], principal)
    note(request, "view_chunk", document_ids=[row["doc_id"]])
    return ChunkModel(
        id=row["id"],
        document_id=row["doc_id"],
        title=row["title"],
        ord=row["ord"],
        text=row["text"],
        page_start=row["page_start"],
        page_end=row["page_end"],
        label_start=row["label_start"],
        label_end=row["label_end"],
        section=row["section"],
        n_tokens=row["n_tokens"],
        file_url=url,
        page_url=f"{url}#page={row['page_start']}",
    )


SIMILAR_PARAMS = {"k", "offset", *FILTER_NAMES, "year_min", "year_max"}  # GET /chunks/{id}/similar's parameters


@router.get("/chunks/{chunk_id}/similar", response_model=SearchResponse, summary="More like this")
async def similar(
    request: Request,
    reply: Response,
    chunk_id: ChunkId,
    k: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 10,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    type: Annotated[list[str] | None, Query()] = None,  # noqa: A002
    area: Annotated[list[str] | None, Query()] = None,
    language: Annotated[list[str] | None, Query(description=LANGUAGE_HELP)] = None,
    publisher: Annotated[list[str] | None, Query()] = None,
    year: Annotated[str | None, Query(max_length=20, description=YEAR_HELP)] = None,
    year_min: Annotated[int | None, Query(ge=1800, le=2200, deprecated=True, description="Use year=2020-.")] = None,
    year_max: Annotated[int | None, Query(ge=1800, le=2200, deprecated=True, description="Use year=-2025.")] = None,
    document: Annotated[list[str] | None, Query()] = None,
    sensitivity: Annotated[list[str] | None, Query()] = None,
    current: Annotated[bool | None, Query(description="true: current editions only.")] = None,
    principal: Principal = Depends(caller),
    kb: KnowledgeBase = Depends(ready_kb),
) -> SearchResponse:
    """Passages closest in meaning to this one, with the same filters as search (a parameter it does not take is a
    422, never ignored)."""
    reject_unknown_parameters(request, SIMILAR_PARAMS, SIMILAR_PARAMS - set(DEPRECATED_FILTERS))
    announce_filters(request, reply, request.query_params.keys())
    filters = to_filters(
        {
            "type": type,
            "area": area,
            "language": language,
            "publisher": publisher,
            "year": year,
            "year_min": year_min,
            "year_max": year_max,
            "document": document,
            "sensitivity": sensitivity,
            "current": "true" if current else None,
        },
        principal,
        kb,
    )
    try:
        res = await run_in_threadpool(kb.searcher.similar, chunk_id, k=k, filters=filters, offset=offset)
    except SearchError as exc:
        if exc.field:  # beyond the result window
            raise ValidationProblem(exc.field, str(exc)) from exc
        raise HTTPException(404, NOT_FOUND) from exc
    out = response(request, principal, res)
    note(
        request,
        "similar",
        query=f"similar:{chunk_id}",
        document_ids=shown_documents(out),
    )
    return out
