"""The FastAPI application: routers, error handling, metrics and audit middleware, the web page."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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

    app.add_middleware(Observe, state=st, server_timing=settings.server_timing)

    if WEB.is_dir():
        app.mount("/static", StaticFiles(directory=WEB), name="static")

        @app.get("/", include_in_schema=False)
        def index() -> FileResponse:
            return FileResponse(WEB / "index.html", media_type="text/html")

    return app


class Observe:
    """ASGI middleware: every HTTP request's metrics, audit event and Server-Timing header. Plain ASGI rather than
    Starlette's BaseHTTPMiddleware (@app.middleware), which runs each request through a task group and memory streams:
    about a millisecond per request on a busy 2-core machine (api/timing.py's `other`)."""

    def __init__(self, app: ASGIApp, state: ServiceState, server_timing: bool = True) -> None:
        """Wrap `app`, recording into the service state's metrics and audit log."""
        self.app = app
        self.st = state
        self.server_timing = server_timing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request; record it when its response starts (or when it fails without one)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        timer = RequestTimer() if self.server_timing else None
        scope.setdefault("state", {})[TIMER_KEY] = timer
        request = Request(scope)
        mounted = mount_template(request)
        recorded = False

        async def send_observed(message: Message) -> None:
            nonlocal recorded
            if message["type"] == "http.response.start" and not recorded:
                recorded = True
                if timer is not None and (serialize := timer.since(ROUTE_DONE)) is not None:
                    timer.add("serialize", serialize)
                with timed(request.state, "audit"):
                    self.record(request, message["status"], mounted, time.perf_counter() - t0)
                if timer is not None:
                    MutableHeaders(scope=message).append(SERVER_TIMING, timer.header())
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        finally:
            if not recorded:  # an exception no handler answered: the server's 500
                self.record(request, 500, mounted, time.perf_counter() - t0)

    def record(self, request: Request, status: int, mounted: str | None, seconds: float) -> None:
        """The request's metrics and (unless it is a probe or a static file that was served) its audit event."""
        template = route_template(request, mounted)
        self.st.metrics.observe(request.method, template, status, seconds)
        if status >= 400 or (template not in UNAUDITED and not template.startswith(STATIC_PREFIXES)):
            info = dict(getattr(request.state, "audit", None) or {})
            info.setdefault("detail", getattr(request.state, "audit_detail", None))
            target = info.pop("target", None) or next(
                (str(v) for v in request.scope.get("path_params", {}).values()), None
            )
            self.st.audit.record(
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
