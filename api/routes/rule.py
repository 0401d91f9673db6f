"""QA routing rules `/rule` (contract 4.6): admin only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from api.bodies import Body
from api.deps import ADMIN_ROLE, CurrentUser, SessionDep, require_roles
from api.envelope import EmptyEnvelope, JsonObject, ok
from api.schemas.rule import RuleEnvelope, RuleListEnvelope
from smartcrop import identity

router = APIRouter(prefix="/rule", tags=["rule"])
AdminDep = Annotated[CurrentUser, require_roles(ADMIN_ROLE)]

# Ranges (Status 1..4, Percentage 0..100) are checked by smartcrop.identity, one place
# for the rule, and answered 400; a value of the wrong type is a 422.


class CreateBody(Body):
    Status: int
    Percentage: int


class UpdateBody(Body):
    Id: int
    Status: int | None = None
    Percentage: int | None = None
    IsActive: bool | None = None


class DeleteBody(Body):
    Id: int


@router.post("/Create", response_model=RuleEnvelope)
def create(body: CreateBody, session: SessionDep, caller: AdminDep) -> JsonObject:
    rule = identity.create_rule(
        session, status=body.Status, percentage=body.Percentage, actor_id=caller.id
    )
    return ok(rule, "Rule created")


@router.post("/Delete", response_model=EmptyEnvelope)
def delete(body: DeleteBody, session: SessionDep, _: AdminDep) -> JsonObject:
    identity.deactivate_rule(session, body.Id)
    return ok(None, "Rule deleted")


@router.post("/Update", response_model=RuleEnvelope)
def update(body: UpdateBody, session: SessionDep, _: AdminDep) -> JsonObject:
    rule = identity.update_rule(
        session,
        rule_id=body.Id,
        status=body.Status,
        percentage=body.Percentage,
        is_active=body.IsActive,
    )
    return ok(rule, "Rule updated")


@router.get("/Get", response_model=RuleListEnvelope)
def get(session: SessionDep, _: AdminDep) -> JsonObject:
    return ok(identity.list_rules(session))
