"""The FastAPI application: routers, error handling, metrics and audit middleware, the web page."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.routing import Match, Mount

from pactkb import __version__
from pactkb.api import errors
from pactkb.api.audit import AuditEvent
from pactkb.api.deps import ServiceState
from pactkb.api.routes import apidocs, chunks, documents, health, jobs, keys, search, vocabulary
from pactkb.api.timing import HEADER as SERVER_TIMING
from pactkb.api.timing import ROUTE_DONE, RequestTimer, timed
from pactkb.api.timing import STATE_KEY as TIMER_KEY
from pactkb.index.encoder import Encoder
from pactkb.settings import Settings

STATIC_PREFIXES = ("/static/", apidocs.ASSETS_URL + "/")  # files, not audited
log = logging.getLogger(__name__)
WEB = Path(__file__).resolve().parent / "web"
# probes and static pages are audited only when they refuse a request (every access decision is recorded)
ROUTERS = (search, documents, chunks, jobs, keys, health, vocabulary)  # the API's resources, in the docs' order
TITLE = "pactkb"
DESCRIPTION = (
    "Knowledge base and semantic search over law-enforcement guidelines. Authenticate with "
    "`Authorization: Bearer <API key>`; without a key, public documents are readable (if enabled)."
)
UNAUDITED = {"/health", "/ready", "/me", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/"}


def create_app(
    settings: Settings | None = None, encoder: Encoder | None = None, load_in_background: bool = True
) -> FastAPI:
    """Build the app for a data directory; the model and index load in the background (see /ready)."""
    settings = settings or Settings()
    st = ServiceState(settings, encoder=encoder)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if load_in_background:
            threading.Thread(target=st.load, name="pactkb-load", daemon=True).start()
        else:
            st.load()
        yield
        st.close()

    app = FastAPI(
        title=TITLE, version=__version__, description=DESCRIPTION, lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.pactkb = st
    errors.install(app)
    for module in ROUTERS:
        app.include_router(module.router)
    apidocs.install(app)

    @app.middleware("http")
    async def observe(request: Request, call_next) -> Response:  # noqa: ANN001
        t0 = time.perf_counter()
        timer = RequestTimer() if settings.server_timing else None
        setattr(request.state, TIMER_KEY, timer)
        status = 500
        response: Response | None = None
        mounted = mount_template(request)
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            if timer is not None and (serialize := timer.since(ROUTE_DONE)) is not None:
                timer.add("serialize", serialize)
            with timed(request.state, "audit"):
                record(request, status, mounted, time.perf_counter() - t0)
            if timer is not None and response is not None:
                response.headers[SERVER_TIMING] = timer.header()

    def record(request: Request, status: int, mounted: str | None, seconds: float) -> None:
        """The request's metrics and (unless it is a probe or a static file that was served) its audit event."""
        template = route_template(request, mounted)
        st.metrics.observe(request.method, template, status, seconds)
        if status >= 400 or (template not in UNAUDITED and not template.startswith(STATIC_PREFIXES)):
            info = dict(getattr(request.state, "audit", None) or {})
            info.setdefault("detail", getattr(request.state, "audit_detail", None))
            target = next((str(v) for v in request.scope.get("path_params", {}).values()), None)
            st.audit.record(
                AuditEvent(
                    actor=getattr(request.state, "actor", None) or "anonymous",
                    via=getattr(request.state, "via", None) or "anonymous",
                    action=info.pop("action", f"{request.method.lower()} {template}"),
                    method=request.method,
                    route=template,
                    status=status,
                    target=target,
                    **info,
                )
            )

    if WEB.is_dir():
        app.mount("/static", StaticFiles(directory=WEB), name="static")

        @app.get("/", include_in_schema=False)
        def index() -> FileResponse:
            return FileResponse(WEB / "index.html", media_type="text/html")

    return app


def openapi_document() -> dict[str, Any]:
    """The API's OpenAPI document from the routers alone: no data directory is opened, nothing is loaded."""
    app = FastAPI(title=TITLE, version=__version__, description=DESCRIPTION)
    for module in ROUTERS:
        app.include_router(module.router)
    return app.openapi()


def mount_template(request: Request) -> str | None:
    """'/static/{path}' when the request goes to a mount (static files); call before routing changes the scope."""
    scope = dict(request.scope)
    for mount in request.app.routes:
        if isinstance(mount, Mount) and mount.matches(scope)[0] is Match.FULL:
            return f"{mount.path}/{{path}}"
    return None


def route_template(request: Request, mounted: str | None) -> str:
    """The matched route's path template for metrics and audit (the mount's when it served the request)."""
    route = request.scope.get("route")
    if route is not None and not isinstance(route, Mount):
        return route.path
    return mounted or "unmatched"


def app_from_env() -> FastAPI:
    """Factory for uvicorn workers: settings come from PACTKB_* environment variables."""
    return create_app(Settings())
