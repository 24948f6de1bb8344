"""Who is calling: API keys (stored hashed in the data directory) and, optionally, OIDC/JWT bearer tokens."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pactkb import pg
from pactkb.db import connect, sql_in
from pactkb.pg import is_postgres
from pactkb.settings import ROLES, SENSITIVITY_LEVELS, Settings, visible_levels

KEY_PREFIX = "pkb_"
KEYS_DB = "service.sqlite3"
# key names never contain ':', so they cannot collide with token identities ("jwt:<issuer>#<subject>")
KEY_NAME = r"^[A-Za-z0-9_.@-]{1,100}$"

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS api_keys (
    prefix TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK ({sql_in("role", ROLES)}),
    clearance TEXT NOT NULL CHECK ({sql_in("clearance", SENSITIVITY_LEVELS)}),
    created_at REAL NOT NULL,
    revoked_at REAL
)
"""


class AuthError(Exception):
    """The credentials are missing, malformed, unknown, revoked or expired."""


class KeyError_(ValueError):
    """A key management request is invalid (duplicate name, unknown key...)."""


@dataclass(frozen=True)
class Principal:
    """The caller: a name (for ownership and audit), a role and a clearance."""

    name: str
    role: str
    clearance: str
    via: str = "key"

    @property
    def anonymous(self) -> bool:
        """True for callers without credentials."""
        return self.via == "anonymous"

    def can(self, role: str) -> bool:
        """Whether the caller's role is at least `role`."""
        return ROLES.index(self.role) >= ROLES.index(role)

    def sees(self, sensitivity: str) -> bool:
        """Whether the caller's clearance covers a sensitivity label."""
        return sensitivity in visible_levels(self.clearance)

    def may_grant(self, role: str, clearance: str) -> str | None:
        """None if the caller may hand out this role and clearance (at most its own), else the field too high."""
        if ROLES.index(role) > ROLES.index(self.role):
            return "role"
        if not self.sees(clearance):
            return "clearance"
        return None


ANONYMOUS = Principal(name="anonymous", role="reader", clearance="public", via="anonymous")


def hash_key(key: str) -> str:
    """SHA-256 of a key. Keys carry 256 random bits, so a fast hash cannot be brute-forced."""
    return hashlib.sha256(key.encode()).hexdigest()


def open_db(data: Path, url: str | None = None) -> sqlite3.Connection:
    """The service database (keys, jobs): the shared PostgreSQL database when `url` names one (its tables come from
    `pactkb db upgrade`), else service.sqlite3 in the data directory."""
    if is_postgres(url):
        return pg.connect(str(url))  # type: ignore[return-value] # the sqlite3 calling conventions (pactkb.pg)
    data.mkdir(parents=True, exist_ok=True)
    con = connect(data / KEYS_DB)
    con.execute(SCHEMA)
    return con


class KeyStore:
    """Create, list, revoke and verify API keys."""

    def __init__(self, data: Path, url: str | None = None) -> None:
        """Open the key table (in the data directory, or the shared database of `url`)."""
        self.con = open_db(data, url)
        self.lock = threading.Lock()

    def create(self, name: str, role: str, clearance: str) -> tuple[str, dict[str, Any]]:
        """A new key (the secret is returned once and never stored)."""
        if role not in ROLES:
            raise KeyError_(f"role must be one of {', '.join(ROLES)}")
        if clearance not in SENSITIVITY_LEVELS:
            raise KeyError_(f"clearance must be one of {', '.join(SENSITIVITY_LEVELS)}")
        if not re.fullmatch(KEY_NAME, name):
            raise KeyError_(f"key name {name!r} is not allowed (1-100 of A-Z a-z 0-9 _ . @ -)")
        prefix = secrets.token_hex(4)
        key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        with self.lock:
            try:
                self.con.execute(
                    "INSERT INTO api_keys (prefix, name, hash, role, clearance, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (prefix, name, hash_key(key), role, clearance, time.time()),
                )
            except sqlite3.IntegrityError as exc:
                raise KeyError_(f"a key named {name!r} already exists") from exc
        return key, self.info(name)

    def info(self, name: str) -> dict[str, Any]:
        """A key's public fields."""
        row = self.con.execute(
            "SELECT name, prefix, role, clearance, created_at, revoked_at FROM api_keys WHERE name=?", (name,)
        ).fetchone()
        if row is None:
            raise KeyError_(f"no key named {name!r}")
        return dict(row)

    def list(self) -> list[dict[str, Any]]:
        """Every key's public fields."""
        rows = self.con.execute(
            "SELECT name, prefix, role, clearance, created_at, revoked_at FROM api_keys ORDER BY created_at"
        )
        return [dict(r) for r in rows]

    def revoke(self, name: str) -> dict[str, Any]:
        """Revoke a key by name (or prefix)."""
        with self.lock:
            cur = self.con.execute(
                "UPDATE api_keys SET revoked_at=? WHERE (name=? OR prefix=?) AND revoked_at IS NULL",
                (time.time(), name, name),
            )
        if cur.rowcount == 0:
            raise KeyError_(f"no active key named {name!r}")
        row = self.con.execute("SELECT name FROM api_keys WHERE name=? OR prefix=?", (name, name)).fetchone()
        return self.info(row[0])

    def verify(self, key: str) -> Principal:
        """The principal for a presented key, or AuthError."""
        parts = key.split("_")
        if not key.startswith(KEY_PREFIX) or len(parts) < 3:
            raise AuthError("malformed API key")
        row = self.con.execute("SELECT * FROM api_keys WHERE prefix=?", (parts[1],)).fetchone()
        if row is None or not hmac.compare_digest(row["hash"], hash_key(key)):
            raise AuthError("unknown API key")
        if row["revoked_at"] is not None:
            raise AuthError("revoked API key")
        return Principal(name=row["name"], role=row["role"], clearance=row["clearance"], via="key")

    def presented(self, key: str) -> str:
        """Who a key that failed verification claims to be, for the audit log: its key's name when the prefix is
        known (revoked keys included), else 'unknown-key:<prefix>' (never the secret)."""
        parts = key.split("_")
        prefix = parts[1] if key.startswith(KEY_PREFIX) and len(parts) >= 3 else ""
        row = self.con.execute("SELECT name FROM api_keys WHERE prefix=?", (prefix,)).fetchone() if prefix else None
        if row is not None:
            return row[0]
        return f"unknown-key:{re.sub(r'[^0-9a-f]', '?', prefix[:16])}" if prefix else "malformed-key"

    def active(self, name: str) -> bool:
        """Whether a key name is known and not revoked."""
        row = self.con.execute("SELECT revoked_at FROM api_keys WHERE name=?", (name,)).fetchone()
        return row is not None and row[0] is None


class JwtVerifier:
    """Verifies OIDC/JWT bearer tokens against a configured issuer and key set (JWKS)."""

    def __init__(self, settings: Settings) -> None:
        """Load the key set from a file path, inline JSON, or an https URL."""
        import jwt

        self.jwt = jwt
        self.issuer = settings.oidc_issuer
        self.audience = settings.oidc_audience
        src = settings.oidc_jwks or ""
        self._client = None
        self._keys: dict[str, Any] = {}
        if src.startswith("https://") or src.startswith("http://"):
            self._client = jwt.PyJWKClient(src)
        else:
            text = src if src.lstrip().startswith("{") else Path(src).read_text()
            for jwk in json.loads(text).get("keys", []):
                self._keys[jwk.get("kid", "")] = jwt.PyJWK(jwk)

    def presented(self, token: str) -> str:
        """Who a token that failed verification claims to be (its unverified issuer and subject), for the audit log."""
        try:
            claims = self.jwt.decode(token, options={"verify_signature": False})
            return "unverified-" + token_identity(str(claims.get("iss", "?")), str(claims.get("sub", "?")))
        except Exception:  # noqa: BLE001 - anything unreadable is simply unreadable
            return "unreadable-token"

    def verify(self, token: str) -> Principal:
        """The principal for a valid token (role and clearance from claims), or AuthError."""
        jwt = self.jwt
        key: Any
        try:
            if self._client is not None:
                key = self._client.get_signing_key_from_jwt(token)
            else:
                kid = jwt.get_unverified_header(token).get("kid", "")
                key = self._keys.get(kid) or (next(iter(self._keys.values())) if len(self._keys) == 1 else None)
                if key is None:
                    raise AuthError("token signed with an unknown key")
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=["RS256", "ES256", "PS256", "EdDSA"],
                issuer=self.issuer,
                audience=self.audience,
                options={"require": ["exp", "iss"], "verify_aud": self.audience is not None},
            )
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid token: {exc}") from exc
        role = claims.get("pactkb_role") or next((r for r in claims.get("roles", []) if r in ROLES), "reader")
        clearance = claims.get("pactkb_clearance") or claims.get("clearance") or "public"
        if role not in ROLES or clearance not in SENSITIVITY_LEVELS:
            raise AuthError("token carries an unknown role or clearance")
        if not claims.get("sub"):
            raise AuthError("token has no subject (sub)")
        return Principal(name=token_identity(claims["iss"], claims["sub"]), role=role, clearance=clearance, via="jwt")


def token_identity(issuer: str, subject: str) -> str:
    """A token user's identity: issuer and subject, never a display name (which anyone may choose, and which could
    equal an API key's name)."""
    return f"jwt:{issuer}#{subject}"
