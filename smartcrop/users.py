"""Creating users: shared by ``smartcrop create-admin`` and the admin API."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcrop.db.models import Role, User
from smartcrop.errors import Conflict, InvalidInput
from smartcrop.passwords import WeakPasswordError, hash_password


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
        select(Role).where(func.lower(Role.rolename) == name.lower(), Role.status == 1)
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
            func.lower(Role.rolename) == "admin",
            Role.status == 1,
        )
        .limit(1)
    )
    return found is not None
