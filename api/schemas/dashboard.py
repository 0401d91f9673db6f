"""``Data`` of ``/dashboard`` (contract 4.2): work-item counts."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.envelope import Envelope, Page


class Totals(BaseModel):
    TotalImages: int
    PendingOperator: int
    PendingQA: int
    Completed: int
    Rejected: int
    Locked: int
    Exported: int = Field(description="Completed work items already in a manifest")


class ProviderTotals(BaseModel):
    ProviderName: str
    TotalImages: int
    PendingOperator: int
    PendingQA: int
    Completed: int
    Rejected: int


# The routes' response models: named subclasses, so that the OpenAPI document names
# their schemas (see api/envelope.py).


class TotalsEnvelope(Envelope[Totals]):
    pass


class ProviderTotalsPage(Page[ProviderTotals]):
    pass


class ProviderListEnvelope(Envelope[ProviderTotalsPage]):
    pass
