"""``Data`` of ``/lookup`` (contract 4.3): rows ordered by id."""

from __future__ import annotations

from pydantic import BaseModel

from api.envelope import Envelope


class TitleLookup(BaseModel):
    """An image type, an image language or an aspect ratio (``16x9``)."""

    Id: int
    Title: str


class RejectReason(BaseModel):
    Id: int
    Reason: str


# The routes' response models: named subclasses, so that the OpenAPI document names
# their schemas (see api/envelope.py).


class TitleLookupEnvelope(Envelope[list[TitleLookup]]):
    pass


class RejectReasonsEnvelope(Envelope[list[RejectReason]]):
    pass
