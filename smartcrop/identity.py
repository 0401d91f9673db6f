"""Identity and administration: logging in, users, roles, rules and the QA toggle.

Plain domain code shared by the API (contract 4.5-4.7) and anything else that needs it.
Functions take a Session and leave committing to the caller, except where a record
must outlive a refusal (failed logins: see ``_Attempt``).
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from smartcrop.auth import issue_token, token_ttl
from smartcrop.db.models import (
    AppSettings,
    LoginAttempt,
    ProgramImage,
    Role,
    Rule,
    User,
)
from smartcrop.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    TooManyRequests,
    Unauthorized,
)
from smartcrop.passwords import (
    WeakPasswordError,
    check_password_policy,
    hash_password,
    needs_rehash,
    verify_password,
)
from smartcrop.settings import Settings
from smartcrop.users import create_user, role_to_give

ADMIN = "admin"

# Throttling: failures per account and per client address within a sliding window.
# The address limit is higher because an office behind one NAT address shares it.
ACCOUNT_FAILURE_LIMIT = 5
ADDRESS_FAILURE_LIMIT = 20
FAILURE_WINDOW = timedelta(minutes=15)

# Same words whether the e-mail or the password was wrong, so neither can be probed.
WRONG_CREDENTIALS = "Wrong e-mail or password"
MAX_ROLE_NAME = 64


# --- login and throttling ------------------------------------------------------------


@dataclass(frozen=True)
class LoginResult:
    token: str
    expires_in: int
    user_id: int
    user_name: str
    email: str
    role: str  # as stored; the built-in roles are lower case


def _account_subject(email: str) -> str:
    return "email:" + email.strip().lower()[:290]


def _address_subject(address: str) -> str:
    return "addr:" + address[:290]


class _Attempt:
    """One guarded password check, throttled per subject, safe across processes.

    A provisional failure row is written and committed *before* counting, so that of
    many simultaneous attempts at most ``limit`` ever reach the password check (each
    one's count includes every row committed before its own). A refused (429) attempt
    removes its rows, so hammering a throttled account does not extend the lock-out.
    """

    def __init__(
        self,
        session: Session,
        limits: dict[str, int],
        window: timedelta,
        now: datetime | None,
    ) -> None:
        self.session = session
        self.limits = limits
        self.window = window
        self.now = now or datetime.now(UTC)
        self.row_ids: list[int] = []

    def begin(self) -> None:
        rows = [LoginAttempt(subject=s, attemptedat=self.now) for s in self.limits]
        self.session.add_all(rows)
        self.session.flush()
        self.row_ids = [row.id for row in rows]
        self.session.commit()
        since = self.now - self.window
        for subject, limit in self.limits.items():
            times = self.session.scalars(
                select(LoginAttempt.attemptedat)
                .where(
                    LoginAttempt.subject == subject,
                    LoginAttempt.attemptedat > since,
                    LoginAttempt.id.not_in(self.row_ids),
                )
                .order_by(LoginAttempt.attemptedat)
            ).all()
            if len(times) >= limit:
                self._forget_own_rows()
                self.session.commit()  # before the refusal rolls the request back
                # When enough of the oldest failures have left the window.
                free_at = times[len(times) - limit] + self.window
                minutes = max(1, math.ceil((free_at - self.now).total_seconds() / 60))
                raise TooManyRequests(
                    "Too many failed attempts for this account or address; "
                    f"try again in {minutes} minute{'s' if minutes != 1 else ''}"
                )

    def failed(self) -> None:
        # The provisional rows stay as the failure record; commit them before the
        # caller's refusal rolls the request back.
        self.session.commit()

    def succeeded(self, clear_subject: str) -> None:
        # Success clears the account's failures but not the address's: otherwise one
        # valid account would let an address keep guessing at others. No commit here:
        # the caller's transaction (and any row lock it holds) carries on.
        self._forget_own_rows()
        self.session.execute(
            delete(LoginAttempt).where(LoginAttempt.subject == clear_subject)
        )
        self._prune()

    def _forget_own_rows(self) -> None:
        self.session.execute(
            delete(LoginAttempt).where(LoginAttempt.id.in_(self.row_ids))
        )

    def _prune(self) -> None:
        # Old rows count for nothing; keep the table small.
        self.session.execute(
            delete(LoginAttempt).where(
                LoginAttempt.attemptedat < self.now - max(self.window, FAILURE_WINDOW)
            )
        )


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
    account = _account_subject(email)
    limits = {account: account_limit}
    if client_address:
        limits[_address_subject(client_address)] = address_limit
    attempt = _Attempt(session, limits, window, now)
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


# --- users ---------------------------------------------------------------------------


def user_view(user: User, role_name: str) -> dict[str, Any]:
    """A user as the API shows it: never the hash."""
    return {
        "UserId": user.id,
        "UserName": user.username,
        "EmailID": user.emailid,
        "RoleName": role_name,
        "IsActive": user.isactive,
    }


def register_user(
    session: Session, *, name: str, email: str, password: str, role_name: str
) -> dict[str, Any]:
    try:
        # A savepoint: a simultaneous registration of the same e-mail that slips past
        # create_user's check hits the unique index and becomes a 409, not a 500.
        with session.begin_nested():
            user = create_user(
                session, name=name, email=email, password=password, role_name=role_name
            )
    except IntegrityError:
        raise Conflict(f"a user with e-mail {email.strip()} already exists") from None
    return user_view(user, _role_name(session, user.roleid))


def list_users(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(
        select(User, Role.rolename).join(Role, Role.id == User.roleid).order_by(User.id)
    ).all()
    return [user_view(user, role) for user, role in rows]


def user_roles(session: Session, email: str) -> list[dict[str, Any]]:
    row = session.execute(
        select(Role.id, Role.rolename)
        .join(User, User.roleid == Role.id)
        .where(func.lower(User.emailid) == email.strip().lower())
    ).one_or_none()
    if row is None:
        raise NotFound(f"there is no user with e-mail {email.strip()}")
    return [{"RoleId": row.id, "RoleName": row.rolename}]


def update_user(
    session: Session,
    *,
    user_id: int,
    name: str | None = None,
    role_name: str | None = None,
    password: str | None = None,
    is_active: bool | None = None,
) -> dict[str, Any]:
    """Change the given fields; a new password or a deactivation revokes tokens."""
    user = _user_for_update(session, user_id)
    if name is not None:
        if not name.strip():
            raise InvalidInput("the user name must not be empty")
        user.username = name.strip()
    if role_name is not None:
        role = role_to_give(session, role_name)
        if role.id != user.roleid:
            _keep_an_admin(session, user, losing="change the role of")
        user.roleid = role.id
    if password is not None:
        user.passwordhash = _hash_or_refuse(password)
        user.tokenversion += 1
    if is_active is not None and is_active != user.isactive:
        if not is_active:
            _keep_an_admin(session, user, losing="deactivate")
            user.tokenversion += 1
        user.isactive = is_active
    user.updatedat = func.now()
    session.flush()
    session.refresh(user)
    return user_view(user, _role_name(session, user.roleid))


def deactivate_user(session: Session, user_id: int) -> None:
    """Soft delete: the user can no longer log in and every token of theirs stops."""
    user = _user_for_update(session, user_id)
    if not user.isactive:
        return  # already deleted: deleting again changes nothing
    _keep_an_admin(session, user, losing="delete")
    user.isactive = False
    user.tokenversion += 1
    user.updatedat = func.now()
    session.flush()


def change_password(
    session: Session,
    *,
    caller_id: int,
    caller_is_admin: bool,
    email: str,
    old_password: str | None,
    new_password: str,
) -> None:
    """A user changes their own password (old one required); an admin anyone's."""
    user_id = session.scalar(
        select(User.id).where(func.lower(User.emailid) == email.strip().lower())
    )
    if not caller_is_admin and user_id != caller_id:
        raise PermissionDenied("You may only change your own password")
    if user_id is None:
        raise NotFound(f"there is no user with e-mail {email.strip()}")
    if old_password is None and not caller_is_admin:
        raise InvalidInput("OldPassword is required to change your own password")
    try:
        check_password_policy(new_password)  # before spending a guarded attempt
    except WeakPasswordError as exc:
        raise InvalidInput(str(exc)) from None
    attempt = None
    if old_password is not None:
        # Guessing the old password with a stolen token is throttled like a login.
        subject = _account_subject(email)
        attempt = _Attempt(
            session, {subject: ACCOUNT_FAILURE_LIMIT}, FAILURE_WINDOW, None
        )
        attempt.begin()  # commits: so the user row is locked only after it
    user = _user_for_update(session, user_id)
    if attempt is not None and old_password is not None:
        if not verify_password(user.passwordhash, old_password):
            attempt.failed()
            raise InvalidInput("the old password is wrong")
        attempt.succeeded(_account_subject(email))
    user.passwordhash = _hash_or_refuse(new_password)
    user.tokenversion += 1  # every token issued before stops working now
    user.updatedat = func.now()
    session.flush()


def _hash_or_refuse(password: str) -> str:
    try:
        return hash_password(password)
    except WeakPasswordError as exc:
        raise InvalidInput(str(exc)) from None


def _user_for_update(session: Session, user_id: int) -> User:
    user = session.scalar(select(User).where(User.id == user_id).with_for_update())
    if user is None:
        raise NotFound(f"there is no user with id {user_id}")
    return user


def _keep_an_admin(session: Session, user: User, *, losing: str) -> None:
    """Refuse to remove the last active admin: nobody could administer any more."""
    if not user.isactive or _role_name(session, user.roleid).lower() != ADMIN:
        return
    # FOR UPDATE: two admins removing each other at once are serialised, and the
    # second sees the first's change, so one admin always remains.
    others = session.scalars(
        select(User.id)
        .join(Role, Role.id == User.roleid)
        .where(
            func.lower(Role.rolename) == ADMIN,
            User.isactive.is_(True),
            User.id != user.id,
        )
        .with_for_update(of=User)
    ).all()
    if not others:
        raise Conflict(f"cannot {losing} the last active admin; make another first")


def _role_name(session: Session, role_id: int) -> str:
    # One row: a user's role is a foreign key.
    return session.scalars(select(Role.rolename).where(Role.id == role_id)).one()


# --- roles ---------------------------------------------------------------------------


def role_view(role: Role) -> dict[str, Any]:
    return {"Id": role.id, "RoleName": role.rolename, "Status": role.status}


def _clean_role_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidInput("the role name must not be empty")
    if len(name) > MAX_ROLE_NAME:
        raise InvalidInput(f"the role name must be at most {MAX_ROLE_NAME} characters")
    return name


def _role_named(session: Session, name: str) -> Role | None:
    return session.scalar(
        select(Role)
        .where(func.lower(Role.rolename) == name.strip().lower())
        .with_for_update()
    )


def _active_role(session: Session, name: str) -> Role:
    role = _role_named(session, name)
    if role is None or role.status != 1:
        raise NotFound(f"there is no role named {name.strip()!r}")
    return role


def list_roles(session: Session) -> list[dict[str, Any]]:
    roles = session.scalars(select(Role).where(Role.status == 1).order_by(Role.id))
    return [role_view(role) for role in roles]


def create_role(session: Session, name: str) -> dict[str, Any]:
    name = _clean_role_name(name)
    existing = _role_named(session, name)
    if existing is not None and existing.status == 1:
        raise Conflict(f"a role named {existing.rolename!r} already exists")
    if existing is not None:
        # A deleted role of that name comes back (names stay unique, deleted or not).
        existing.status = 1
        existing.rolename = name
        role = existing
    else:
        role = Role(rolename=name, status=1, isbuiltin=False)
        try:
            with session.begin_nested():  # a simultaneous create of the same name
                session.add(role)
        except IntegrityError:
            raise Conflict(f"a role named {name!r} already exists") from None
    session.flush()
    return role_view(role)


def delete_role(session: Session, name: str) -> None:
    role = _active_role(session, name)
    if role.isbuiltin:
        raise Conflict(f"the built-in role {role.rolename!r} cannot be deleted")
    holders = session.scalar(select(func.count(User.id)).where(User.roleid == role.id))
    if holders:
        raise Conflict(
            f"the role {role.rolename!r} is given to {holders} user(s); "
            "give them another role first"
        )
    role.status = 0
    session.flush()


def rename_role(session: Session, name: str, new_name: str) -> dict[str, Any]:
    role = _active_role(session, name)
    new_name = _clean_role_name(new_name)
    if role.isbuiltin:
        # Permissions are bound to these names: renaming would silently change them.
        raise Conflict(f"the built-in role {role.rolename!r} cannot be renamed")
    other = _role_named(session, new_name)
    if other is not None and other.id != role.id:
        raise Conflict(f"a role named {other.rolename!r} already exists")
    role.rolename = new_name
    session.flush()
    return role_view(role)


# --- the QA toggle -------------------------------------------------------------------


def qc_disabled(session: Session) -> bool:
    return bool(
        session.scalar(select(AppSettings.qcdisabled).where(AppSettings.id == 1))
    )


def set_qc_disabled(session: Session, disabled: bool, actor_id: int) -> bool:
    """Switch QA off (refused while a QA user holds a lock) or on again."""
    # Locking the one settings row serialises concurrent toggles.
    row = session.scalar(
        select(AppSettings).where(AppSettings.id == 1).with_for_update()
    )
    if row is None:  # the migration seeds it; a hand-edited database may not have it
        row = AppSettings(id=1, qcdisabled=False)
        session.add(row)
    if disabled:
        locked_in_qa = session.scalar(
            select(func.count(ProgramImage.id)).where(
                ProgramImage.status == 2, ProgramImage.currentstate == 1
            )
        )
        if locked_in_qa:
            raise Conflict(
                f"cannot disable QA while {locked_in_qa} image(s) are being reviewed; "
                "wait until QA finishes or release their locks"
            )
    row.qcdisabled = disabled
    row.updatedby = actor_id
    row.updatedat = func.now()
    session.flush()
    return disabled


# --- rules ---------------------------------------------------------------------------


def rule_view(rule: Rule) -> dict[str, Any]:
    return {
        "Id": rule.id,
        "Status": rule.status,
        "Percentage": rule.percentage,
        "IsActive": rule.isactive,
    }


def _check_rule(status: int | None, percentage: int | None) -> None:
    if status is not None and status not in (1, 2, 3, 4):
        raise InvalidInput("Status must be 1, 2, 3 or 4 (see the work-item states)")
    if percentage is not None and not 0 <= percentage <= 100:
        raise InvalidInput("Percentage must be between 0 and 100")


def list_rules(session: Session) -> list[dict[str, Any]]:
    rules = session.scalars(
        select(Rule).where(Rule.isactive.is_(True)).order_by(Rule.id)
    )
    return [rule_view(rule) for rule in rules]


def create_rule(
    session: Session, *, status: int, percentage: int, actor_id: int
) -> dict[str, Any]:
    _check_rule(status, percentage)
    rule = Rule(status=status, percentage=percentage, isactive=True, createdby=actor_id)
    session.add(rule)
    session.flush()
    return rule_view(rule)


def update_rule(
    session: Session,
    *,
    rule_id: int,
    status: int | None = None,
    percentage: int | None = None,
    is_active: bool | None = None,
) -> dict[str, Any]:
    _check_rule(status, percentage)
    rule = _rule(session, rule_id)
    if status is not None:
        rule.status = status
    if percentage is not None:
        rule.percentage = percentage
    if is_active is not None:
        rule.isactive = is_active
    rule.updatedat = func.now()
    session.flush()
    session.refresh(rule)
    return rule_view(rule)


def deactivate_rule(session: Session, rule_id: int) -> None:
    """Soft delete: the rule stays for the record but no longer routes anything."""
    rule = _rule(session, rule_id)
    rule.isactive = False
    rule.updatedat = func.now()
    session.flush()


def _rule(session: Session, rule_id: int) -> Rule:
    rule = session.scalar(select(Rule).where(Rule.id == rule_id).with_for_update())
    if rule is None:
        raise NotFound(f"there is no rule with id {rule_id}")
    return rule
