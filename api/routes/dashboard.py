"""Dashboard `/dashboard` (contract 4.2): operator, qa and admin."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from api.deps import CurrentUser, SessionDep, require_roles
from api.envelope import JsonObject, ok, page
from api.query import paging
from api.schemas.dashboard import ProviderListEnvelope, TotalsEnvelope
from smartcrop import reporting

router = APIRouter(prefix="/dashboard", tags=["dashboard"])
DashboardDep = Annotated[CurrentUser, require_roles("operator", "qa")]


@router.get("/Totals", response_model=TotalsEnvelope)
def totals(session: SessionDep, _: DashboardDep) -> JsonObject:
    """Work items by queue and state across all providers, exact at every request
    (added up from the counts each move keeps in its own transaction)."""
    return ok(reporting.totals(session))


@router.get("/ProviderList", response_model=ProviderListEnvelope)
def provider_list(
    session: SessionDep,
    _: DashboardDep,
    pageNumber: str | None = None,  # the contract's names
    pageSize: str | None = None,
) -> JsonObject:
    pages = paging(pageNumber, pageSize)
    items, total = reporting.provider_list(session, pages)
    return ok(page(items, pages.number, pages.size, total))
