"""Roles and the QA toggle `/role` (contract 4.5): admin only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field

from api.bodies import Body
from api.deps import ADMIN_ROLE, CurrentUser, SessionDep, require_roles
from api.envelope import EmptyEnvelope, JsonObject, ok
from api.schemas.role import QcStatusEnvelope, RoleEnvelope, RoleListEnvelope
from smartcrop import identity
from smartcrop.errors import InvalidInput

router = APIRouter(prefix="/role", tags=["role"])
AdminDep = Annotated[CurrentUser, require_roles(ADMIN_ROLE)]


class RoleBody(Body):
    RoleName: str = Field(max_length=200)


class RenameBody(Body):
    RoleName: str = Field(max_length=200)
    NewRoleName: str = Field(max_length=200)


@router.post("/Create", response_model=RoleEnvelope)
def create(body: RoleBody, session: SessionDep, _: AdminDep) -> JsonObject:
    return ok(identity.create_role(session, body.RoleName), "Role created")


@router.post("/Delete", response_model=EmptyEnvelope)
def delete(body: RoleBody, session: SessionDep, _: AdminDep) -> JsonObject:
    identity.delete_role(session, body.RoleName)
    return ok(None, "Role deleted")


@router.post("/Update", response_model=RoleEnvelope)
def update(body: RenameBody, session: SessionDep, _: AdminDep) -> JsonObject:
    role = identity.rename_role(session, body.RoleName, body.NewRoleName)
    return ok(role, "Role updated")


@router.get("/Get", response_model=RoleListEnvelope)
def get(session: SessionDep, _: AdminDep) -> JsonObject:
    return ok(identity.list_roles(session))


@router.get("/QCdisable", response_model=QcStatusEnvelope)
def qc_disable(
    session: SessionDep, caller: AdminDep, status: Annotated[int, Query()]
) -> JsonObject:
    if status not in (0, 1):
        raise InvalidInput("status must be 1 (disable QA) or 0 (enable QA)")
    disabled = identity.set_qc_disabled(session, status == 1, caller.id)
    return ok({"QCDisabled": disabled}, "QA disabled" if disabled else "QA enabled")


@router.get("/QCdisablestatus", response_model=QcStatusEnvelope)
def qc_disable_status(session: SessionDep, _: AdminDep) -> JsonObject:
    return ok({"QCDisabled": identity.qc_disabled(session)})
