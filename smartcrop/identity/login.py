"""Logging in: credentials checked under throttling, a token issued."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcrop.db.models import Role, User
from smartcrop.errors import Unauthorized
from smartcrop.identity.passwords import (
    WeakPasswordError,
    hash_password,
    needs_rehash,
    verify_password,
)
from smartcrop.identity.throttling import (
    ACCOUNT_FAILURE_LIMIT,
    ADDRESS_FAILURE_LIMIT,
    FAILURE_WINDOW,
    GuardedAttempt,
    account_subject,
    address_subject,
)
from smartcrop.identity.tokens import issue_token, token_ttl
from smartcrop.settings import Settings

# Same words whether the e-mail or the password was wrong, so neither can be probed.
WRONG_CREDENTIALS = "Wrong e-mail or password"


@dataclass(frozen=True)
class LoginResult:
    token: str
    expires_in: int
    user_id: int
    user_name: str
    email: str
    role: str  # as stored; the built-in roles are lower case


def login(
    session: Session,
    settings: Settings,
    *,
    email: str,
    password: str,
    client_address: str | None,
    account_limit: int = ACCOUNT_FAILURE_LIMIT,
    address_limit: int = ADDRESS_FAILURE_LIMIT,
    window: timedelta = FAILURE_WINDOW,
    now: datetime | None = None,
) -> LoginResult:
    """Check the credentials and issue a token; Unauthorized or TooManyRequests."""
    account = account_subject(email)
    limits = {account: account_limit}
    if client_address:
        limits[address_subject(client_address)] = address_limit
    attempt = GuardedAttempt(session, limits, window, now)
    attempt.begin()

    row = session.execute(
        select(User, Role.rolename)
        .join(Role, Role.id == User.roleid)
        .where(func.lower(User.emailid) == email.strip().lower())
    ).one_or_none()
    user, role = (row[0], row[1]) if row is not None else (None, None)
    # verify_password runs a full Argon2 check even without a hash, so an unknown
    # e-mail, an inactive user and a wrong password all take the same time.
    matches = verify_password(user.passwordhash if user else None, password)
    if user is None or role is None or not matches or not user.isactive:
        attempt.failed()
        raise Unauthorized(WRONG_CREDENTIALS)

    attempt.succeeded(account)
    if needs_rehash(user.passwordhash):
        # Argon2 parameters were raised since this hash was made: upgrade it now,
        # while the password is at hand (a password from an older, laxer policy
        # keeps its hash).
        with contextlib.suppress(WeakPasswordError):
            user.passwordhash = hash_password(password)
    token = issue_token(
        settings, user_id=user.id, role=role, token_version=user.tokenversion, now=now
    )
    return LoginResult(
        token=token,
        expires_in=token_ttl(settings),
        user_id=user.id,
        user_name=user.username,
        email=user.emailid,
        role=role,
    )
