"""``Data`` of ``/report/CroppedImageReport`` (contract 4.4): one row per rendition;
of ``/report/TeamStats``: one row per user and day (docs/workflow.md, "Team metrics").
"""

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


class TeamStatsRow(BaseModel):
    Day: str = Field(description="The UTC day, YYYY-MM-DD")
    UserId: int
    UserName: str | None = Field(description="Null: the user no longer exists")
    RoleName: str | None = Field(description="The user's role now")
    ImagesFinished: int = Field(description="Finish moves (operator Status 2 or 3)")
    RenditionsSaved: int = Field(description="Renditions last saved by the user")
    MedianSecondsToFinish: float | None = Field(
        description="Median seconds from the image's last claim to its finish"
    )
    P90SecondsToFinish: float | None = Field(
        description="90th percentile of the same (interpolated)"
    )
    SentBackOrRejected: int = Field(
        description="Of the finishes, how many QA's next decision sent back or rejected"
    )
    SentBackShare: float | None = Field(
        description="SentBackOrRejected / ImagesFinished; null when none finished"
    )
    ImagesReviewed: int = Field(description="QA decisions: approve, send back, reject")


# The routes' response models: named subclasses, so that the OpenAPI document names
# their schemas (see api/envelope.py).


class ReportPage(Page[ReportRow]):
    pass


class ReportEnvelope(Envelope[ReportPage]):
    pass


class TeamStatsEnvelope(Envelope[list[TeamStatsRow]]):
    """``Data``: the rows ordered by day, user name, user id."""
