"""``Data`` of ``/rule`` (contract 4.6)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.envelope import Envelope


class Rule(BaseModel):
    Id: int
    Status: int = Field(description="The work-item status the rule routes to (1..4)")
    Percentage: int = Field(description="0..100: the share of programmes it routes")
    IsActive: bool


# The routes' response models: named subclasses, so that the OpenAPI document names
# their schemas (see api/envelope.py).


class RuleEnvelope(Envelope[Rule]):
    pass


class RuleListEnvelope(Envelope[list[Rule]]):
    pass
