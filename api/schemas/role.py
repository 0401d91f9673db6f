"""``Data`` of ``/role`` (contract 4.5)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.envelope import Envelope


class Role(BaseModel):
    Id: int
    RoleName: str
    Status: int = Field(description="1 active, 0 inactive")


class QcStatus(BaseModel):
    QCDisabled: bool = Field(description="True: every finished programme completes")


# The routes' response models: named subclasses, so that the OpenAPI document names
# their schemas (see api/envelope.py).


class RoleEnvelope(Envelope[Role]):
    pass


class RoleListEnvelope(Envelope[list[Role]]):
    pass


class QcStatusEnvelope(Envelope[QcStatus]):
    pass
