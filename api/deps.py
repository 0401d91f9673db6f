"""Request dependencies, declared once and used as ``Annotated`` types by routes.

Who is calling: ``CurrentUserDep`` (any valid token) and ``require_roles(...)`` (a
valid token of one of the named roles; admin always passes). Role checks are declared
on each route, so the contract's role table can be read from the routes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from smartcrop.errors import PermissionDenied
from smartcrop.identity.tokens import authenticate
from smartcrop.settings import Settings

ADMIN_ROLE = "admin"


# Dependencies that do no I/O are ``async def``: FastAPI runs a plain ``def``
# dependency in the thread pool, and each such hand-off (queue, thread wake-up, GIL
# hand-over, result back to the event loop) costs more CPU than the work itself.
# Those that touch the database stay ``def`` (or hand their I/O to the pool).


async def get_settings(request: Request) -> Settings:
    # Starlette's app.state holds untyped attributes: each is typed where it is read.
    settings: Settings = request.app.state.settings
    return settings


def _commit_and_close(session: Session) -> None:
    try:
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _rollback_and_close(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()


async def get_db(request: Request) -> AsyncIterator[Session]:
    """A session per request: committed when the route returns, rolled back on error.

    Making a session does no I/O (it connects on first use), so only the commit or
    rollback goes to the thread pool: one hand-off per request instead of two.
    """
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
    except BaseException:
        await run_in_threadpool(_rollback_and_close, session)
        raise
    await run_in_threadpool(_commit_and_close, session)


SettingsDep = Annotated[Settings, Depends(get_settings)]
# scope="function": the commit runs before the response is sent. With the default
# ("request") FastAPI runs it after the client already has its 200, so a client could
# act on a save not yet committed, or be told "Saved" for a commit that then failed.
SessionDep = Annotated[Session, Depends(get_db, scope="function")]

# auto_error=False: a missing header is answered by authenticate() with our own 401
# in the envelope, not FastAPI's 403.
_bearer = HTTPBearer(auto_error=False, description="Token from POST /user/Login")


@dataclass(frozen=True)
class CurrentUser:
    id: int
    name: str
    email: str
    role: str  # lower-case role name
    # The bearer token's own id and expiry (POST /user/Logout ends it).
    token_id: str | None = None
    token_expires: datetime | None = None


def get_current_user(
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> CurrentUser:
    """The caller behind the bearer token, checked against the database (401 if not)."""
    token = credentials.credentials if credentials is not None else None
    identity = authenticate(session, settings, token)
    return CurrentUser(
        id=identity.id,
        name=identity.name,
        email=identity.email,
        role=identity.role,
        token_id=identity.token_id,
        token_expires=identity.expires_at,
    )


CurrentUserDep = Annotated[CurrentUser, Depends(get_current_user)]


def require_roles(*roles: str) -> Any:
    """A dependency letting through callers of these roles (and admin); else 403."""
    allowed = frozenset(r.lower() for r in roles) | {ADMIN_ROLE}

    async def check(user: CurrentUserDep) -> CurrentUser:  # no I/O: no hand-off
        if user.role not in allowed:
            raise PermissionDenied(
                "You do not have permission to do this: it needs the role "
                + " or ".join(sorted(allowed))
            )
        return user

    return Depends(check)


def ensure_self_or_admin(caller: CurrentUser, user_id: int | None) -> None:
    """Refuse (403) a user id naming someone else unless the caller is admin."""
    if user_id is None or caller.role == ADMIN_ROLE or user_id == caller.id:
        return
    raise PermissionDenied("You may only act for yourself: the user id is not yours")
