"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from pactkb.api.auth import Principal
from pactkb.api.deps import caller, optional_caller, require, state
from pactkb.api.schemas import Me

router = APIRouter(tags=["service"])


@router.get("/me", response_model=Me, summary="Who am I")
def me(principal: Principal = Depends(caller)) -> Me:
    """The caller's name, role and clearance (anonymous callers included); checks a key without side effects."""
    return Me(
        name=principal.name,
        role=principal.role,
        clearance=principal.clearance,
        anonymous=principal.anonymous,
        can_upload=principal.can("contributor") and not principal.anonymous,
        via=principal.via,
    )


@router.get("/health", summary="Liveness")
def health() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get("/ready", summary="Readiness (model and index loaded)")
def ready(request: Request, principal: Principal | None = Depends(optional_caller)) -> JSONResponse:
    """200 once the model and the index are loaded (and a replica of the shared store has caught up with its change
    log), 503 before (or if loading failed). The counts are those of the documents the caller may see; without
    credentials when anonymous access is off, none. A replica adds `replication`: the change-log entry it has
    applied, the head, and whether it is caught up."""
    st = state(request)
    if st.ready.is_set():
        sizes = st.sizes(principal.clearance) if principal is not None else {}
        replication = st.replication()  # a replica of the shared store: whether it has applied every change
        extra = {"replication": replication} if replication is not None else {}
        return JSONResponse({"status": "ready", **sizes, "model": st.kb.encoder.name, **extra})
    detail = f"failed: {st.load_error}" if st.load_error else "loading"
    return JSONResponse(
        {"status": detail, "detail": f"the index is {detail}"}, status_code=503, headers={"Retry-After": "2"}
    )


@router.get("/metrics", summary="Prometheus metrics (admin)")
def metrics(request: Request, principal: Principal = Depends(require("admin"))) -> Response:
    """Request counts and latency histograms by route (all workers together), and the number of documents and chunks
    within the admin key's clearance; for operators only."""
    st = state(request)
    body, ctype = st.metrics.render(lambda: st.sizes(principal.clearance))
    return Response(body, media_type=ctype)
