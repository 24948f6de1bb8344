"""API key management for admins (the same as `pactkb keys`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request

from pactkb.api.auth import KeyError_, Principal
from pactkb.api.deps import note, require, state
from pactkb.api.errors import ValidationProblem
from pactkb.api.schemas import KeyCreate, KeyCreated, KeyInfo

router = APIRouter(tags=["keys"])


@router.get("/keys", response_model=list[KeyInfo], summary="List API keys (admin)")
def list_keys(request: Request, principal: Principal = Depends(require("admin"))) -> list[KeyInfo]:
    """Every key's name, role, clearance and state (never the secret)."""
    note(request, "list_keys")
    return [KeyInfo(**k) for k in state(request).keys.list()]


@router.post("/keys", response_model=KeyCreated, status_code=201, summary="Create an API key (admin)")
def create_key(request: Request, body: KeyCreate, principal: Principal = Depends(require("admin"))) -> KeyCreated:
    """A new key; its secret is shown once. Nobody may hand out a role or clearance above their own (the local
    `pactkb keys` command, run by whoever owns the data directory, is not limited)."""
    too_high = principal.may_grant(body.role, body.clearance)
    if too_high is not None:
        raise ValidationProblem(
            too_high, f"{getattr(body, too_high)!r} is above your own {too_high} ({getattr(principal, too_high)})", 403
        )
    try:
        key, info = state(request).keys.create(body.name, body.role, body.clearance)
    except KeyError_ as exc:
        raise ValidationProblem("name", str(exc), 409) from exc
    note(request, "key_create", detail=f"{body.name} role={body.role} clearance={body.clearance}")
    return KeyCreated(**info, key=key)


@router.delete("/keys/{name}", response_model=KeyInfo, summary="Revoke an API key (admin)")
def revoke_key(request: Request, name: str, principal: Principal = Depends(require("admin"))) -> KeyInfo:
    """Revoke a key by name; only keys whose role and clearance are within the caller's own."""
    keys = state(request).keys
    try:
        target = keys.info(name)
    except KeyError_ as exc:
        raise HTTPException(404, str(exc)) from exc
    if principal.may_grant(target["role"], target["clearance"]) is not None:
        raise ValidationProblem("name", f"key {name!r} has a role or clearance above your own", 403)
    try:
        info = keys.revoke(name)
    except KeyError_ as exc:
        raise HTTPException(404, str(exc)) from exc
    note(request, "key_revoke", detail=name)
    return KeyInfo(**info)
