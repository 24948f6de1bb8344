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


def audit_reason(request: Request, reason: str) -> None:
    """Keep why a request was refused for its audit event, unless the code that refused it said more already (a
    failed credential names what it claimed to be). The reason is the caller's own error message: it reveals
    nothing the response did not."""
    if getattr(request.state, "audit_detail", None) is None:
        request.state.audit_detail = reason[:1000]


def reject_unknown_parameters(request: Request, accepted: set[str], shown: set[str] | None = None) -> None:
    """422 naming the first query parameter the route does not take (a misspelt filter would otherwise be ignored and
    the caller shown everything); `shown`: the names the message lists (accepted less deprecated ones)."""
    unknown = sorted(set(request.query_params) - accepted)
    if unknown:
        listed = ", ".join(sorted(shown if shown is not None else accepted))
        raise ValidationProblem(unknown[0], f"unknown parameter {unknown[0]!r} (allowed: {listed})")


def install(app: FastAPI) -> None:
    """Register the handlers."""

    @app.exception_handler(RequestValidationError)
    async def validation(request: Request, exc: RequestValidationError) -> JSONResponse:
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
        audit_reason(request, "; ".join(f"{e['field']}: {e['message']}" for e in errors))
        return JSONResponse(body(f"{first['field']}: {first['message']}", errors), status_code=422)

    @app.exception_handler(ValidationProblem)
    async def problem(request: Request, exc: ValidationProblem) -> JSONResponse:
        audit_reason(request, f"{exc.field}: {exc.message}")
        return JSONResponse(
            body(f"{exc.field}: {exc.message}", [{"field": exc.field, "message": exc.message}]), status_code=exc.status
        )

    @app.exception_handler(StarletteHTTPException)
    async def http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        audit_reason(request, str(exc.detail))
        return JSONResponse(body(str(exc.detail)), status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(body("internal error; it has been logged"), status_code=500)


__all__ = ["HTTPException", "ValidationProblem", "install", "reject_unknown_parameters"]
