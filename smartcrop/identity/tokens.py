"""Bearer tokens: signed (HS256), expiring, and revocable through the user's
token version.

A token carries ``sub`` (user id, as a string as RFC 7519 asks), ``role``, ``ver``
(the user's ``tokenversion`` when it was issued), ``jti`` (its own random id), ``iat``
and ``exp``. Every request checks ``ver`` and ``isactive`` against the database, so a
password change or a deactivation (both bump ``tokenversion``) stops all the user's
older tokens at once, and ``jti`` against ``smartcrop_revokedtoken``, so a logout
stops that one token at once, in every API process. (A token issued before ``jti``
existed cannot be ended alone; it expires within ``token_ttl_seconds``.)
"""

from __future__ import annotations

import os
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import jwt
from sqlalchemy import CursorResult, delete, exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from smartcrop.db.models import RevokedToken, Role, User
from smartcrop.errors import Unauthorized
from smartcrop.settings import Settings

ALGORITHM = "HS256"
# One message for every bad token: a client learns nothing about why it failed.
# (S105 below: these are messages, not secrets.)
BAD_TOKEN_MESSAGE = "Not authenticated: invalid or expired token; log in again"  # noqa: S105
NO_TOKEN_MESSAGE = "Not authenticated: send a valid bearer token"  # noqa: S105

_secret_lock = threading.Lock()
_secret_cache: dict[Path, str] = {}


@dataclass(frozen=True)
class Identity:
    """Who a valid token belongs to, as the database says now."""

    id: int
    name: str
    email: str
    role: str  # lower-case role name
    # The token's own id and expiry, for ending it (None: a token without a jti).
    token_id: str | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Claims:
    user_id: int
    version: int
    token_id: str | None
    expires_at: datetime


def signing_secret(settings: Settings) -> str:
    """The configured secret, or (development) one generated once into secret_file."""
    auth = settings.smartcrop_service.auth
    if auth.jwt_secret is not None and auth.jwt_secret.get_secret_value():
        return auth.jwt_secret.get_secret_value()
    path = auth.secret_file.resolve()
    with _secret_lock:
        cached = _secret_cache.get(path)
        if cached is None:
            cached = _load_or_create_secret_file(path)
            _secret_cache[path] = cached
        return cached


def _load_or_create_secret_file(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    try:
        # O_EXCL: when several API processes start together only one secret wins and
        # the others read it, so every process signs with the same key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        existing = path.read_text(encoding="utf-8").strip()
        if existing:
            return existing
        # An empty file (a writer died half-way): replace it.
        path.write_text(secret, encoding="utf-8")
        os.chmod(path, 0o600)
        return secret
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secret)
    os.chmod(path, 0o600)  # the umask may have narrowed O_CREAT's mode; be explicit
    return secret


def token_ttl(settings: Settings) -> int:
    return settings.smartcrop_service.auth.token_ttl_seconds


def issue_token(
    settings: Settings,
    *,
    user_id: int,
    role: str,
    token_version: int,
    now: datetime | None = None,
    ttl_seconds: int | None = None,
) -> str:
    issued = now or datetime.now(UTC)
    ttl = token_ttl(settings) if ttl_seconds is None else ttl_seconds
    claims = {
        "sub": str(user_id),
        "role": role.lower(),
        "ver": token_version,
        "jti": secrets.token_urlsafe(16),
        "iat": int(issued.timestamp()),
        "exp": int((issued + timedelta(seconds=ttl)).timestamp()),
    }
    return jwt.encode(claims, signing_secret(settings), algorithm=ALGORITHM)


def decode_token(settings: Settings, token: str) -> Claims:
    """The claims of a well-signed, unexpired token; else Unauthorized."""
    try:
        # algorithms is pinned: "none" and any algorithm swap are refused.
        claims = jwt.decode(
            token,
            signing_secret(settings),
            algorithms=[ALGORITHM],
            options={"require": ["exp", "iat", "sub"]},
        )
        user_id = int(claims["sub"])
        version = claims["ver"]
        token_id = claims.get("jti")
        expires_at = datetime.fromtimestamp(int(claims["exp"]), UTC)
    except (jwt.PyJWTError, KeyError, ValueError, TypeError, OverflowError):
        raise Unauthorized(BAD_TOKEN_MESSAGE) from None
    if not isinstance(version, int) or isinstance(version, bool):
        raise Unauthorized(BAD_TOKEN_MESSAGE)
    if token_id is not None and (not isinstance(token_id, str) or len(token_id) > 64):
        raise Unauthorized(BAD_TOKEN_MESSAGE)
    return Claims(user_id, version, token_id, expires_at)


def authenticate(session: Session, settings: Settings, token: str | None) -> Identity:
    """The live identity behind a bearer token, or Unauthorized."""
    if not token:
        raise Unauthorized(NO_TOKEN_MESSAGE)
    claims = decode_token(settings, token)
    query = (
        select(User.id, User.username, User.emailid, User.tokenversion, Role.rolename)
        .join(Role, Role.id == User.roleid)
        .where(User.id == claims.user_id, User.isactive.is_(True))
    )
    if claims.token_id is not None:
        # In the same round trip: a logged-out token is refused at once.
        query = query.where(~exists().where(RevokedToken.tokenid == claims.token_id))
    row = session.execute(query).one_or_none()
    if row is None or row.tokenversion != claims.version:
        raise Unauthorized(BAD_TOKEN_MESSAGE)
    # The role comes from the database, not the token: a role change applies at once.
    return Identity(
        id=row.id,
        name=row.username,
        email=row.emailid,
        role=row.rolename.lower(),
        token_id=claims.token_id,
        expires_at=claims.expires_at,
    )


def revoke_token(
    session: Session,
    *,
    user_id: int,
    token_id: str | None,
    expires_at: datetime | None,
) -> bool:
    """End one token at once and in every process; False when it has no id to end
    it by (issued before tokens had one)."""
    if token_id is None or expires_at is None:
        return False
    session.execute(
        insert(RevokedToken)
        .values(tokenid=token_id, userid=user_id, expiresat=expires_at)
        .on_conflict_do_nothing(index_elements=[RevokedToken.tokenid])
    )
    return True


def purge_revoked_tokens(session: Session, now: datetime | None = None) -> int:
    """Forget revoked tokens past their expiry (refused anyway); how many went."""
    # A DELETE answers a CursorResult (with rowcount); Session.execute's type says
    # only Result, whatever the statement (SQLAlchemy's documented cast).
    result = cast(
        "CursorResult[Any]",
        session.execute(
            delete(RevokedToken).where(
                RevokedToken.expiresat < (now or datetime.now(UTC))
            )
        ),
    )
    return int(result.rowcount or 0)
