"""/docs (Swagger UI) and /redoc served offline: the assets come from the fastapi-offline package, not a CDN."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_URL = "/docs-assets"
ASSETS_DIR = Path(str(files("fastapi_offline") / "static"))


def install(app: FastAPI) -> None:
    """Mount the Swagger UI / ReDoc assets and add /docs, /docs/oauth2-redirect and /redoc (app has docs_url=None)."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")
    app.include_router(router)


router = APIRouter(include_in_schema=False)
# The pages may load only from this server: ReDoc's sidebar logo would otherwise come from cdn.redoc.ly.
LOCAL_ONLY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'"
)


def local_only(page: HTMLResponse) -> HTMLResponse:
    """The page with a Content-Security-Policy that keeps every request on this server."""
    page.headers["Content-Security-Policy"] = LOCAL_ONLY
    return page


def _base(request: Request) -> str:
    """The app's root path (behind a proxy prefix)."""
    return request.scope.get("root_path", "").rstrip("/")


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI for the OpenAPI schema."""
    base = _base(request)
    return local_only(
        get_swagger_ui_html(
            openapi_url=f"{base}{request.app.openapi_url}",
            title=f"{request.app.title} – API",
            oauth2_redirect_url=f"{base}/docs/oauth2-redirect",
            swagger_js_url=f"{base}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{base}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{base}{ASSETS_URL}/favicon.png",
        )
    )


@router.get("/docs/oauth2-redirect")
def swagger_ui_redirect() -> HTMLResponse:
    """Swagger UI's OAuth2 redirect helper."""
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    """ReDoc for the OpenAPI schema (no web fonts: they would come from Google)."""
    base = _base(request)
    return local_only(
        get_redoc_html(
            openapi_url=f"{base}{request.app.openapi_url}",
            title=f"{request.app.title} – API reference",
            redoc_js_url=f"{base}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{base}{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
    )
