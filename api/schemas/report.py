"""``Data`` of ``/report/CroppedImageReport`` (contract 4.4): one row per rendition."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.envelope import Envelope, Page
from api.schemas.common import DateTimeText


class ReportRow(BaseModel):
    ProgramId: str
    ProviderName: str
    ProgramTitle: str | None
    ImageId: int
    AspectRatio: str = Field(description="The aspect ratio's title, e.g. `16x9`")
    Status: int = Field(description="The work item's status (1..4)")
    CroppedBy: str | None = Field(description="The name of the user who cropped it")
    CroppedAt: DateTimeText | None
    ReviewedBy: str | None = Field(description="The name of the QA user")
    ReviewedAt: DateTimeText | None
    OutputFileName: str | None = Field(description="The manifest it was exported in")


# The routes' response models: named subclasses, so that the OpenAPI document names
# their schemas (see api/envelope.py).


class ReportPage(Page[ReportRow]):
    pass


class ReportEnvelope(Envelope[ReportPage]):
    pass
