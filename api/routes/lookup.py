"""Lookups `/lookup` (contract 4.3): any signed-in role, ordered by id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from api.deps import CurrentUser, SessionDep, require_roles
from api.envelope import JsonObject, ok
from api.schemas.lookup import RejectReasonsEnvelope, TitleLookupEnvelope
from smartcrop.reporting import lookup_rows

router = APIRouter(prefix="/lookup", tags=["lookup"])
AnyRoleDep = Annotated[CurrentUser, require_roles("operator", "qa")]


@router.get("/GetImageTypeLookup", response_model=TitleLookupEnvelope)
def image_types(session: SessionDep, _: AnyRoleDep) -> JsonObject:
    return ok(lookup_rows(session, "image_type"))


@router.get("/GetImageLanguageLookup", response_model=TitleLookupEnvelope)
def image_languages(session: SessionDep, _: AnyRoleDep) -> JsonObject:
    return ok(lookup_rows(session, "image_language"))


@router.get("/GetRejectReasonLookup", response_model=RejectReasonsEnvelope)
def reject_reasons(session: SessionDep, _: AnyRoleDep) -> JsonObject:
    return ok(lookup_rows(session, "reject_reason"))


@router.get("/GetAspectRatioLookup", response_model=TitleLookupEnvelope)
def aspect_ratios(session: SessionDep, _: AnyRoleDep) -> JsonObject:
    return ok(lookup_rows(session, "aspect_ratio"))
