"""GET/POST /search: hybrid search with filters, paging, facets, restricted to what the caller may see."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from pactkb.api.auth import Principal
from pactkb.api.deprecation import announce, announce_filters
from pactkb.api.deps import caller, file_url, note, ready_kb, state
from pactkb.api.errors import ValidationProblem, reject_unknown_parameters
from pactkb.api.schemas import (
    LANGUAGE_HELP,
    PROFILE_HELP,
    QUERY_LIMIT,
    YEAR_HELP,
    HitModel,
    SearchFilters,
    SearchRequest,
    SearchResponse,
)
from pactkb.api.timing import ROUTE_DONE, request_timer, timed
from pactkb.index.filters import (
    DEPRECATED_FILTERS,
    FILTER_NAMES,
    CorpusLanguages,
    FilterError,
    Filters,
    deprecated_filters,
    tighter_year,
)
from pactkb.index.kb import KnowledgeBase
from pactkb.index.results import Hit, SearchError, SearchResult
from pactkb.settings import DEFAULT_MODE, MAX_OFFSET, MAX_PAGE_SIZE, SearchMode

router = APIRouter(tags=["search"])
GET_PARAMS = {"q", "k", "offset", "mode", "group_by_document", "profile", *FILTER_NAMES, *DEPRECATED_FILTERS}


def hit_model(request: Request, principal: Principal, h: Hit) -> HitModel:
    """A result as returned by the API, with links to the original at the page."""
    url = file_url(request, h.document_id, principal)
    d = h.to_dict()
    for a in d["also_in"]:
        a["file_url"] = file_url(request, a["document_id"], principal)
    return HitModel(
        **{k: d[k] for k in HitModel.model_fields if k in d}, file_url=url, page_url=f"{url}#page={h.page_start}"
    )


def response(request: Request, principal: Principal, res: SearchResult, profile: bool = False) -> SearchResponse:
    """The API shape of a search result (with its time per stage when profiled)."""
    return SearchResponse(
        query=res.query,
        mode=res.mode,
        took_ms=res.took_ms,
        total=res.total,
        total_relation=res.total_relation,
        offset=res.offset,
        k=res.k,
        no_good_answer=res.no_good_answer,
        query_language=res.language,
        query_translation=res.translation,
        query_expansion=res.expansion,
        results=[hit_model(request, principal, h) for h in res.results],
        facets=res.facets,
        timings=res.timings if profile else None,
    )


def corpus_languages(kb: KnowledgeBase, principal: Principal) -> CorpusLanguages:
    """The languages of the documents this caller may see (for a language filter's values and its error's hint)."""
    return lambda: kb.store.document_languages(Filters(clearance=principal.clearance))


def to_filters(values: dict[str, Any], principal: Principal, kb: KnowledgeBase | None = None) -> Filters:
    """Validated filters, restricted to the caller's clearance; 422 naming the bad filter (a language error lists
    the languages of the documents in `kb` the caller may see)."""
    languages = corpus_languages(kb, principal) if kb is not None else None
    try:
        return Filters.from_mapping(values, languages).with_clearance(principal.clearance)
    except FilterError as exc:
        raise ValidationProblem(f"filters.{exc.field}", exc.reason) from exc


async def run_search(request: Request, kb: KnowledgeBase, principal: Principal, body: SearchRequest) -> SearchResponse:
    """Run a validated search and note it for the audit log."""
    limit = kb.settings.max_query_chars
    if len(body.q) > limit:
        raise ValidationProblem("q", f"String should have at most {limit} characters")
    with timed(request.state, "filters"):
        filters = to_filters(body.filters.as_mapping(), principal, kb)
    try:
        kb.searcher.check_window(body.offset, body.k)
    except SearchError as exc:
        raise ValidationProblem(exc.field or "offset", str(exc)) from exc
    timer = request_timer(request.state)
    t0 = time.perf_counter()
    res = await run_in_threadpool(
        kb.searcher.search,
        body.query,
        k=body.k,
        offset=body.offset,
        mode=body.mode,
        filters=filters,
        group_by_document=body.group_by_document,
    )
    if res.timings:
        state(request).metrics.observe_search(res.timings)
        if timer is not None:
            timer.add_search(res.timings)
            timer.add("dispatch", max(0.0, (time.perf_counter() - t0) * 1000 - res.timings["total"]))
    with timed(request.state, "response"):
        out = response(request, principal, res, body.profile)
    note(
        request,
        "search",
        query=body.query,
        filters={**body.filters.as_mapping(), "mode": body.mode},
        document_ids=shown_documents(out),
    )
    if timer is not None:
        timer.mark(ROUTE_DONE)
    return out


def shown_documents(out: SearchResponse) -> list[str]:
    """Every document a result page shows the caller, for the audit: each hit's and its "also in" editions'."""
    return list(dict.fromkeys(d for h in out.results for d in (h.document_id, *(a.document_id for a in h.also_in))))


def joined(*lists: list[str] | None) -> list[str] | None:
    """The values of a filter given under its name and its old names (None when none was given)."""
    values = [v for values in lists if values for v in values]
    return values or None


@router.get("/search", response_model=SearchResponse, summary="Search (query string)")
async def search_get(
    request: Request,
    response: Response,
    q: Annotated[str, Query(min_length=1, description=f"The question, in your own words; {QUERY_LIMIT}.")],
    k: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 10,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    mode: SearchMode = DEFAULT_MODE,
    type: Annotated[list[str] | None, Query()] = None,  # noqa: A002 - the public filter name
    area: Annotated[list[str] | None, Query()] = None,
    language: Annotated[list[str] | None, Query(description=LANGUAGE_HELP)] = None,
    publisher: Annotated[list[str] | None, Query()] = None,
    document: Annotated[list[str] | None, Query()] = None,
    year: Annotated[str | None, Query(max_length=20, description=YEAR_HELP)] = None,
    year_min: Annotated[int | None, Query(ge=1800, le=2200, deprecated=True, description="Use year=2020-.")] = None,
    year_max: Annotated[int | None, Query(ge=1800, le=2200, deprecated=True, description="Use year=-2025.")] = None,
    sensitivity: Annotated[list[str] | None, Query()] = None,
    current: Annotated[bool | None, Query(description="true: current editions only.")] = None,
    year_from: Annotated[int | None, Query(ge=1800, le=2200, deprecated=True, description="Use year=2020-.")] = None,
    year_to: Annotated[int | None, Query(ge=1800, le=2200, deprecated=True, description="Use year=-2025.")] = None,
    group_by_document: bool = False,
    profile: Annotated[bool, Query(description=PROFILE_HELP)] = False,
    principal: Principal = Depends(caller),
    kb: KnowledgeBase = Depends(ready_kb),
) -> SearchResponse:
    """Search with query-string parameters; repeat a filter parameter for OR (e.g. type=guideline&type=booklet).
    The filter names and values are the same as POST /search's `filters` and the CLI's `--filter`."""
    reject_unknown_parameters(request, GET_PARAMS, GET_PARAMS - set(DEPRECATED_FILTERS))
    if not q.strip():
        raise ValidationProblem("q", "query must not be blank")
    announce_filters(request, response, request.query_params.keys())
    old = {n: v for n in ("doc_type", "lang", "doc", "document_id") if (v := request.query_params.getlist(n))}
    if old:  # checked under the names the caller sent, so an error names them
        to_filters(old, principal, kb)
    filters = SearchFilters(  # an old name's values join the new name's (each old name is announced as deprecated)
        type=joined(type, old.get("doc_type")),
        area=area,
        language=joined(language, old.get("lang")),
        publisher=publisher,
        document=joined(document, old.get("doc"), old.get("document_id")),
        year=year,
        year_min=tighter_year("year_min", year_min, year_from),  # both old names given: a year must meet both
        year_max=tighter_year("year_max", year_max, year_to),
        sensitivity=sensitivity,
        current=current,
    )
    body = SearchRequest(
        q=q,
        k=k,
        offset=offset,
        mode=mode,
        filters=filters,
        group_by_document=group_by_document,
        profile=profile,
    )
    return await run_search(request, kb, principal, body)


async def require_json(request: Request) -> None:
    """415 unless the body is declared as JSON (runs before the body is validated)."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        raise HTTPException(415, "this endpoint needs Content-Type: application/json")


@router.post(
    "/search", response_model=SearchResponse, summary="Search (JSON body)", dependencies=[Depends(require_json)]
)
async def search_post(
    request: Request,
    response: Response,
    body: SearchRequest,
    principal: Principal = Depends(caller),
    kb: KnowledgeBase = Depends(ready_kb),
) -> SearchResponse:
    """Search with a JSON body: {"q", "k", "offset", "mode", "filters": {...}, "group_by_document", "profile"}; the
    filter names and values are GET /search's. The old names ("query", filters.year_min/year_max) still work for one
    release."""
    raw = await request.json()
    old = {"query": "q"} if isinstance(raw, dict) and "query" in raw else {}
    if isinstance(raw, dict) and isinstance(raw.get("filters"), dict):
        old |= deprecated_filters(raw["filters"])
    announce(request, response, old)
    return await run_search(request, kb, principal, body)
