"""Roles: listed, created, renamed and deleted; the built-in ones are fixed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from smartcrop.db.models import ROLE_ACTIVE, ROLE_DELETED, Role, User
from smartcrop.errors import Conflict, InvalidInput, NotFound

MAX_ROLE_NAME = 64


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
    if role is None or role.status != ROLE_ACTIVE:
        raise NotFound(f"there is no role named {name.strip()!r}")
    return role


def list_roles(session: Session) -> list[dict[str, Any]]:
    roles = session.scalars(
        select(Role).where(Role.status == ROLE_ACTIVE).order_by(Role.id)
    )
    return [role_view(role) for role in roles]


def create_role(session: Session, name: str) -> dict[str, Any]:
    name = _clean_role_name(name)
    existing = _role_named(session, name)
    if existing is not None and existing.status == ROLE_ACTIVE:
        raise Conflict(f"a role named {existing.rolename!r} already exists")
    if existing is not None:
        # A deleted role of that name comes back (names stay unique, deleted or not).
        existing.status = ROLE_ACTIVE
        existing.rolename = name
        role = existing
    else:
        role = Role(rolename=name, status=ROLE_ACTIVE, isbuiltin=False)
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
    role.status = ROLE_DELETED
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
