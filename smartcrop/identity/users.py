"""Users: created (by ``smartcrop create-admin`` and the admin API), listed, changed,
deactivated; passwords changed. Never the last active admin removed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from smartcrop.db.models import ROLE_ACTIVE, Role, User
from smartcrop.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from smartcrop.identity.passwords import (
    WeakPasswordError,
    check_password_policy,
    hash_password,
    verify_password,
)
from smartcrop.identity.throttling import (
    ACCOUNT_FAILURE_LIMIT,
    FAILURE_WINDOW,
    GuardedAttempt,
    account_subject,
)

ADMIN = "admin"


def normalise_email(email: str) -> str:
    email = email.strip()
    if "@" not in email or len(email) > 254 or any(c.isspace() for c in email):
        raise InvalidInput(f"{email!r} is not an e-mail address")
    return email


def role_to_give(session: Session, role_name: str) -> Role:
    """The active role a user is to be given, by name (any case, spaces trimmed).

    An unknown name is a bad value in the request (400), the same whether a user is
    registered or updated; a 404 would say the user asked about is missing.
    """
    name = role_name.strip()
    role = session.scalar(
        select(Role).where(
            func.lower(Role.rolename) == name.lower(), Role.status == ROLE_ACTIVE
        )
    )
    if role is None:
        raise InvalidInput(f"there is no role named {name!r}")
    return role


def create_user(
    session: Session, *, name: str, email: str, password: str, role_name: str
) -> User:
    """Add an active user; refuses a duplicate e-mail (any case) or a weak password."""
    email = normalise_email(email)
    if not name.strip():
        raise InvalidInput("the user name must not be empty")
    role = role_to_give(session, role_name)
    exists = session.scalar(
        select(User.id).where(func.lower(User.emailid) == email.lower())
    )
    if exists is not None:
        raise Conflict(f"a user with e-mail {email} already exists")
    try:
        password_hash = hash_password(password)
    except WeakPasswordError as exc:
        raise InvalidInput(str(exc)) from None
    user = User(
        username=name.strip(), emailid=email, passwordhash=password_hash, roleid=role.id
    )
    session.add(user)
    session.flush()
    return user


def has_active_admin(session: Session) -> bool:
    """Whether an active user holds the (active) admin role: the first-start hint."""
    found = session.scalar(
        select(User.id)
        .join(Role, Role.id == User.roleid)
        .where(
            User.isactive.is_(True),
            func.lower(Role.rolename) == ADMIN,
            Role.status == ROLE_ACTIVE,
        )
        .limit(1)
    )
    return found is not None


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
        subject = account_subject(email)
        attempt = GuardedAttempt(
            session, {subject: ACCOUNT_FAILURE_LIMIT}, FAILURE_WINDOW, None
        )
        attempt.begin()  # commits: so the user row is locked only after it
    user = _user_for_update(session, user_id)
    if attempt is not None and old_password is not None:
        if not verify_password(user.passwordhash, old_password):
            attempt.failed()
            raise InvalidInput("the old password is wrong")
        attempt.succeeded(account_subject(email))
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
