"""Errors as JSON: every 4xx names the field and the problem; nothing else becomes a bare 500."""

from __future__ import annotations

import logging

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class ValidationProblem(Exception):
    """A request value is invalid (422 unless another status is given)."""

    def __init__(self, field: str, message: str, status: int = 422) -> None:
        """Name the field and the problem."""
        super().__init__(message)
        self.field = field
        self.message = message
        self.status = status


def _field(loc: tuple) -> str:
    """A readable field name from a pydantic error location."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "form", "cookie"):
        parts = parts[1:] or [parts[0]]
    return ".".join(parts) or "request"


def body(detail: str, errors: list[dict[str, str]] | None = None) -> dict:
    """The JSON error body."""
    return {"detail": detail, "errors": errors or []}


def install(app: FastAPI) -> None:
    """Register the handlers."""

    @app.exception_handler(RequestValidationError)
    async def validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for e in exc.errors():
            msg = e.get("msg", "invalid value")
            if e.get("type") == "json_invalid":
                msg = f"malformed JSON: {e.get('ctx', {}).get('error', msg)}"
                errors.append({"field": "body", "message": msg})
                continue
            elif e.get("type") == "extra_forbidden":
                msg = "unknown field"
            errors.append({"field": _field(tuple(e.get("loc", ()))), "message": msg})
        first = errors[0] if errors else {"field": "request", "message": "invalid request"}
        return JSONResponse(body(f"{first['field']}: {first['message']}", errors), status_code=422)

    @app.exception_handler(ValidationProblem)
    async def problem(_: Request, exc: ValidationProblem) -> JSONResponse:
        return JSONResponse(
            body(f"{exc.field}: {exc.message}", [{"field": exc.field, "message": exc.message}]), status_code=exc.status
        )

    @app.exception_handler(StarletteHTTPException)
    async def http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(body(str(exc.detail)), status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(body("internal error; it has been logged"), status_code=500)


__all__ = ["HTTPException", "ValidationProblem", "install"]
