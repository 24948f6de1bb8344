"""Request dependencies: service state, the caller (auth), role checks, readiness, audit notes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import threading
import time
from pathlib import Path
from typing import Any

from fastapi import Depends, Header, HTTPException, Request

from pactkb.api.audit import AuditLog
from pactkb.api.auth import ANONYMOUS, AuthError, JwtVerifier, KeyStore, Principal
from pactkb.api.jobs import Jobs
from pactkb.api.metrics import Metrics
from pactkb.index.embed import Encoder
from pactkb.index.filters import Filters
from pactkb.index.preview import Previews
from pactkb.index.kb import KnowledgeBase
from pactkb.settings import SENSITIVITY_LEVELS, Settings

log = logging.getLogger(__name__)
LINK_TTL = 3600.0


class Signer:
    """Short-lived signed links so a browser can open a file without putting the API key in the URL."""

    def __init__(self, data: Path):
        """Load (or create, mode 0600) the data directory's link secret."""
        path = data / "link.secret"
        if not path.exists():
            tmp = data / f".link.secret.{os.getpid()}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(secrets.token_bytes(32))
            try:
                os.link(tmp, path)  # first writer wins; others read its secret
            except FileExistsError:
                pass
            tmp.unlink()
        self.secret = path.read_bytes()

    def sign(self, doc_id: str, principal: Principal, ttl: float = LINK_TTL) -> str:
        """A token granting this principal's view of one document until it expires."""
        payload = f"{doc_id}|{int(time.time() + ttl)}|{principal.name}|{principal.clearance}|{principal.via}"
        mac = hmac.new(self.secret, payload.encode(), hashlib.sha256).hexdigest()[:32]
        return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=") + "." + mac

    def verify(self, token: str, doc_id: str) -> Principal | None:
        """The principal a valid, unexpired token for this document was issued to."""
        try:
            body, mac = token.rsplit(".", 1)
            payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
            want = hmac.new(self.secret, payload.encode(), hashlib.sha256).hexdigest()[:32]
            tok_doc, exp, name, clearance, via = payload.split("|")
        except (ValueError, UnicodeDecodeError):
            return None
        if not hmac.compare_digest(mac, want) or tok_doc != doc_id or float(exp) < time.time():
            return None
        if clearance not in SENSITIVITY_LEVELS:
            return None
        return Principal(name=name, role="reader", clearance=clearance, via=via)


class ServiceState:
    """Everything one server process holds: the knowledge base, keys, audit, jobs, metrics."""

    def __init__(self, settings: Settings, encoder: Encoder | None = None):
        """Open the data directory; the model and index load in the background (see ready)."""
        self.settings = settings
        self.kb = KnowledgeBase(settings, encoder=encoder)
        self.keys = KeyStore(settings.data)
        self.jwt = JwtVerifier(settings) if settings.oidc_issuer and settings.oidc_jwks else None
        self.audit = AuditLog(settings.data)
        self.jobs = Jobs(self.kb)
        self.signer = Signer(settings.data)
        self.metrics = Metrics(self.sizes)
        self.ready = threading.Event()
        self.load_error: str | None = None
        self.previews = Previews(settings.data / "previews", settings.preview_cache_mb * 1024 * 1024,
                                 settings.preview_timeout)

    def sizes(self) -> dict[str, int]:
        """Index sizes for /metrics."""
        counts = self.kb.store.counts()
        dense = self.kb.dense.ntotal if self.ready.is_set() else 0
        return {"documents": counts["documents"], "chunks": counts["chunks"], "dense_vectors": dense}

    def load(self) -> None:
        """Load the model and the index, warm them up, then mark the service ready and start the job runner."""
        try:
            searcher = self.kb.searcher
            searcher.warm_up()  # the model, the query-language models (about 2 s) and the bridge's dictionaries
            self.ready.set()
            self.jobs.start()
        except Exception as exc:  # noqa: BLE001 - reported by /ready
            log.exception("loading the knowledge base failed")
            self.load_error = f"{type(exc).__name__}: {exc}"

    def close(self) -> None:
        """Stop background threads."""
        self.jobs.stop()
        self.audit.close()
        self.previews.close()


def state(request: Request) -> ServiceState:
    """The process's service state."""
    return request.app.state.pactkb


def caller(request: Request, authorization: str | None = Header(default=None, include_in_schema=False)) -> Principal:
    """Authenticate the bearer credential (API key or JWT); anonymous read access when allowed."""
    st = state(request)
    if not authorization:
        if st.settings.anonymous_read:
            return ANONYMOUS
        raise HTTPException(401, "authentication required: send Authorization: Bearer <API key>",
                            headers={"WWW-Authenticate": "Bearer"})
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "the Authorization header must be 'Bearer <API key or token>'",
                            headers={"WWW-Authenticate": "Bearer"})
    try:
        if token.count(".") == 2 and st.jwt is not None:
            principal = st.jwt.verify(token)
        else:
            principal = st.keys.verify(token)
    except AuthError as exc:
        raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc
    request.state.actor = principal.name
    return principal


def require(role: str):  # noqa: ANN201 - a dependency factory
    """A dependency that admits callers with at least `role`."""

    def check(principal: Principal = Depends(caller)) -> Principal:
        if principal.anonymous:
            raise HTTPException(401, f"this action requires a {role} API key", headers={"WWW-Authenticate": "Bearer"})
        if not principal.can(role):
            raise HTTPException(403, f"this action requires the {role} role (you are {principal.role})")
        return principal

    return check


def ready_kb(request: Request) -> KnowledgeBase:
    """The knowledge base; a request that arrives while it is loading waits up to ready_wait seconds (a worker that
    has just started is seconds away from ready), then gets 503."""
    st = state(request)
    if not st.ready.is_set() and (st.load_error or not st.ready.wait(st.settings.ready_wait)):
        detail = f"the index failed to load: {st.load_error}" if st.load_error else "the index is still loading; retry shortly"
        raise HTTPException(503, detail, headers={"Retry-After": "2"})
    return st.kb


def visibility(principal: Principal) -> Filters:
    """The filter that hides documents above the caller's clearance."""
    return Filters(clearance=principal.clearance)


def note(request: Request, action: str, **fields: Any) -> None:
    """Tell the audit middleware what this request did (query, filters, document ids...)."""
    request.state.audit = {"action": action, **fields}


def file_url(request: Request, doc_id: str, principal: Principal) -> str:
    """Link to a document's original; authenticated callers get a short-lived signed token in it."""
    base = f"/documents/{doc_id}/file"
    if principal.anonymous:
        return base
    return f"{base}?token={state(request).signer.sign(doc_id, principal)}"


