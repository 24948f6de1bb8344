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
from fastapi.concurrency import run_in_threadpool

from pactkb.api.audit import AuditLog
from pactkb.api.auth import ANONYMOUS, AuthError, JwtVerifier, KeyStore, Principal
from pactkb.api.jobs import Jobs
from pactkb.api.metrics import Metrics
from pactkb.api.timing import timed
from pactkb.atomic import temp_beside
from pactkb.index.encoder import Encoder
from pactkb.index.filters import Filters
from pactkb.index.kb import KnowledgeBase
from pactkb.index.preview import Previews
from pactkb.index.shared_store import ReplicaStore
from pactkb.pg import is_postgres
from pactkb.settings import SENSITIVITY_LEVELS, Settings

log = logging.getLogger(__name__)
LINK_TTL = 3600.0
NOT_FOUND = "document not found"


class Signer:
    """Short-lived signed links so a browser can open a file without putting the API key in the URL."""

    def __init__(self, data: Path) -> None:
        """Load (or create, mode 0600) the data directory's link secret."""
        path = data / "link.secret"
        if not path.exists():
            tmp = temp_beside(path)
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
        payload = "|".join([doc_id, str(int(time.time() + ttl)), principal.clearance, principal.via, principal.name])
        mac = hmac.new(self.secret, payload.encode(), hashlib.sha256).hexdigest()[:32]
        return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=") + "." + mac

    def verify(self, token: str, doc_id: str) -> Principal | None:
        """The principal a valid, unexpired token for this document was issued to."""
        try:
            body, mac = token.rsplit(".", 1)
            payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
            want = hmac.new(self.secret, payload.encode(), hashlib.sha256).hexdigest()[:32]
            tok_doc, exp, clearance, via, name = payload.split("|", 4)  # the name last: it may contain '|'
        except (ValueError, UnicodeDecodeError):
            return None
        if not hmac.compare_digest(mac, want) or tok_doc != doc_id or float(exp) < time.time():
            return None
        if clearance not in SENSITIVITY_LEVELS:
            return None
        return Principal(name=name, role="reader", clearance=clearance, via=via)


class ServiceState:
    """Everything one server process holds: the knowledge base, keys, audit, jobs, metrics."""

    def __init__(self, settings: Settings, encoder: Encoder | None = None) -> None:
        """Open the data directory; the model and index load in the background (see ready)."""
        self.settings = settings
        self.kb = KnowledgeBase(settings, encoder=encoder, catch_up=False)
        self.keys = KeyStore(settings.data, settings.database_url)
        self.jwt = JwtVerifier(settings) if settings.oidc_issuer and settings.oidc_jwks else None
        self.audit = AuditLog(settings.data, settings.database_url)
        self.jobs = Jobs(self.kb, self.audit.record)
        self.signer = Signer(settings.data)
        self.metrics = Metrics()
        self.ready = threading.Event()
        self.load_error: str | None = None
        self._stop = threading.Event()
        self.previews = Previews(
            settings.data / "previews", settings.preview_cache_mb * 1024 * 1024, settings.preview_timeout
        )

    def sizes(self, clearance: str) -> dict[str, int]:
        """Documents and chunks a caller of this clearance may see (for /ready and /metrics)."""
        visible = Filters(clearance=clearance)
        return {"documents": self.kb.store.count_documents(visible), "chunks": self.kb.store.count_chunks(visible)}

    def load(self) -> None:
        """Load the model and the index, warm them up, then mark the service ready and start the job runner."""
        try:
            self.follow()
            searcher = self.kb.searcher
            searcher.warm_up()  # the model, the query-language models (about 2 s) and the bridge's dictionaries
            self.ready.set()
            self.jobs.start()
        except Exception as exc:
            log.exception("loading the knowledge base failed")
            self.load_error = f"{type(exc).__name__}: {exc}"

    def follow(self) -> None:
        """A replica of the shared store: catch up with its change log, then follow it in a background thread."""
        store = self.kb.store
        if isinstance(store, ReplicaStore):
            self.kb.follow_shared()
            args = (self.settings.follow_interval, self._stop, self.kb.follow_shared)
            threading.Thread(target=store.follow, args=args, name="pactkb-follow", daemon=True).start()

    def replication(self) -> dict[str, Any] | None:
        """A replica's position in the shared store's change log (None for the embedded store)."""
        store = self.kb.store
        return store.replication() if isinstance(store, ReplicaStore) else None

    def close(self) -> None:
        """Stop background threads."""
        self._stop.set()
        self.jobs.stop()
        self.audit.close()
        self.previews.close()


def state(request: Request) -> ServiceState:
    """The process's service state."""
    return request.app.state.pactkb


def identify(request: Request, principal: Principal, via: str | None = None) -> None:
    """Tell the audit middleware who is calling and how they proved it."""
    request.state.actor = principal.name
    request.state.via = via or principal.via


def refuse(request: Request, actor: str, via: str, reason: str) -> HTTPException:
    """A 401 for credentials that do not hold; the audit row keeps the identity they claimed and why they failed."""
    request.state.actor, request.state.via = actor, via
    request.state.audit_detail = reason
    return HTTPException(401, reason, headers={"WWW-Authenticate": "Bearer"})


def authenticate(request: Request, authorization: str | None) -> Principal | None:
    """The principal of a bearer credential (API key or JWT); None without one; 401 for one that does not hold."""
    if not authorization:
        return None
    st = state(request)
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise refuse(
            request, "malformed-credentials", "none", "the Authorization header must be 'Bearer <API key or token>'"
        )
    verifier = st.jwt if is_jwt(token) else None  # a JWT when tokens are accepted, else an API key
    try:
        principal = verifier.verify(token) if verifier else st.keys.verify(token)
    except AuthError as exc:
        raise refuse(
            request,
            verifier.presented(token) if verifier else st.keys.presented(token),
            "jwt" if verifier else "key",
            str(exc),
        ) from exc
    identify(request, principal)
    return principal


def is_jwt(token: str) -> bool:
    """Whether a bearer token has a JWT's three parts (API keys have none of its dots)."""
    return token.count(".") == 2


def verified_in_thread(request: Request, authorization: str | None) -> bool:
    """Whether checking this credential may block, so it runs in a worker thread: a JWT (its key set may be fetched
    over the network) or an API key in the shared PostgreSQL database. No credential, or an API key of the embedded
    store (an indexed SQLite lookup and a hash), is checked on the event loop, sparing each request the hop to a
    worker thread and back (api/timing.py's `other`)."""
    if not authorization:
        return False
    st = state(request)
    return is_postgres(st.settings.database_url) or (
        st.jwt is not None and is_jwt(authorization.partition(" ")[2].strip())
    )


def resolve_caller(request: Request, authorization: str | None) -> Principal:
    """The caller of a bearer credential (API key or JWT); anonymous read access when allowed; else 401."""
    with timed(request.state, "auth"):
        principal = authenticate(request, authorization)
    if principal is not None:
        return principal
    if state(request).settings.anonymous_read:
        identify(request, ANONYMOUS)
        return ANONYMOUS
    raise refuse(request, "anonymous", "anonymous", "authentication required: send Authorization: Bearer <API key>")


def resolve_optional_caller(request: Request, authorization: str | None) -> Principal | None:
    """The caller if credentials were sent (401 if they do not hold) or anonymous access is on; else None."""
    with timed(request.state, "auth"):
        principal = authenticate(request, authorization)
    if principal is None and state(request).settings.anonymous_read:
        identify(request, ANONYMOUS)
        return ANONYMOUS
    return principal


async def caller(
    request: Request, authorization: str | None = Header(default=None, include_in_schema=False)
) -> Principal:
    """Authenticate the bearer credential (API key or JWT); anonymous read access when allowed."""
    if verified_in_thread(request, authorization):
        return await run_in_threadpool(resolve_caller, request, authorization)
    return resolve_caller(request, authorization)


async def optional_caller(
    request: Request, authorization: str | None = Header(default=None, include_in_schema=False)
) -> Principal | None:
    """The caller if credentials were sent (401 if they do not hold) or anonymous access is on; else None."""
    if verified_in_thread(request, authorization):
        return await run_in_threadpool(resolve_optional_caller, request, authorization)
    return resolve_optional_caller(request, authorization)


def require(role: str):  # noqa: ANN201 - a dependency factory
    """A dependency that admits callers with at least `role`."""

    async def check(request: Request, principal: Principal = Depends(caller)) -> Principal:
        if principal.anonymous:
            raise refuse(request, ANONYMOUS.name, ANONYMOUS.via, f"this action requires a {role} API key")
        if not principal.can(role):
            request.state.audit_detail = f"requires the {role} role"
            raise HTTPException(403, f"this action requires the {role} role (you are {principal.role})")
        return principal

    return check


async def ready_kb(request: Request) -> KnowledgeBase:
    """The knowledge base; a request that arrives while it is loading waits up to ready_wait seconds (a worker that
    has just started is seconds away from ready; the wait runs in a worker thread), then gets 503. Once ready, no
    thread is involved."""
    st = state(request)
    if not st.ready.is_set() and (st.load_error or not await run_in_threadpool(st.ready.wait, st.settings.ready_wait)):
        detail = (
            f"the index failed to load: {st.load_error}"
            if st.load_error
            else "the index is still loading; retry shortly"
        )
        raise HTTPException(503, detail, headers={"Retry-After": "2"})
    return st.kb


def link_holder(request: Request, doc_id: str, token: str | None) -> Principal | None:
    """The principal a signed link for this document was issued to (revoked keys' links die with them); 404 for a bad
    or expired link, exactly like a missing document. None without a token."""
    if not token:
        return None
    st = state(request)
    granted = st.signer.verify(token, doc_id)
    if granted is None or (granted.via == "key" and not st.keys.active(granted.name)):
        request.state.via = "link"
        request.state.audit_detail = "invalid or expired signed link"
        raise HTTPException(404, NOT_FOUND)
    identify(request, granted, via="link")
    return granted


def note(request: Request, action: str, **fields: Any) -> None:
    """Tell the audit middleware what this request did (query, filters, document ids...)."""
    request.state.audit = {"action": action, **fields}


def file_url(request: Request, doc_id: str, principal: Principal) -> str:
    """Link to a document's original; authenticated callers get a short-lived signed token in it."""
    base = f"/documents/{doc_id}/file"
    if principal.anonymous:
        return base
    return f"{base}?token={state(request).signer.sign(doc_id, principal)}"
