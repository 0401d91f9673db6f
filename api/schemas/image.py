"""``Data`` of the image workflow ``/image`` (contract 4.1): the Programme."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.envelope import Envelope
from api.schemas.common import DateTimeText


class Rendition(BaseModel):
    """One stored crop of a source image at one aspect ratio."""

    AspectRatioId: int
    AspectRatio: str = Field(description="The aspect ratio's title, e.g. `16x9`")
    X: int
    Y: int
    Width: int
    Height: int
    Url: str = Field(description="The stored image, CDN-rewritten")
    ImageBase64: str | None = Field(
        description="The stored image: in a QA claim, when it can be read; else null"
    )


class Suggestion(BaseModel):
    """A suggested crop of a source image at one aspect ratio."""

    AspectRatioId: int
    AspectRatio: str
    X: int
    Y: int
    Width: int
    Height: int
    Score: float
    Method: str = Field(description="How it was found: `face`, `saliency`, `centre`")


class UserRef(BaseModel):
    """A user, by id and name."""

    UserId: int
    UserName: str


class ProgrammeImage(BaseModel):
    """One work item (source image) of a programme."""

    ImageId: int
    ImageUrl: str = Field(description="The source image, CDN-rewritten")
    ImageTypeId: int | None = Field(description="Null: the provider's value is unknown")
    ImageType: str | None
    LanguageId: int | None = Field(description="Null: the provider's value is unknown")
    Language: str | None
    Width: int | None
    Height: int | None
    Status: int = Field(description="1 operator queue, 2 QA queue, 3 done, 4 rejected")
    CurrentState: int = Field(description="0 free, 1 locked by LockedBy")
    LockedBy: int | None
    RejectReasonId: int | None
    Notes: str
    Renditions: list[Rendition]
    Suggestions: list[Suggestion]
    LastComment: str | None = Field(
        description="The comment of the image's latest send-back by QA; null when it "
        "was never sent back or sent back without one"
    )
    SentBackBy: UserRef | None = Field(
        description="Who made the image's latest send-back; null when it was never "
        "sent back"
    )


class Programme(BaseModel):
    """A programme and its images: those a claim took; after a save or a status
    update, every image of the programme (contract 4.1)."""

    ProgramId: str
    ProviderName: str
    ProgramTitle: str | None
    Images: list[ProgrammeImage]


class ClaimedProgramme(Programme):
    """A claim's answer: the programme and when the claimer's lock on it lapses."""

    LockExpiresAt: DateTimeText = Field(
        description="When the lock lapses unless renewed (`/image/RenewLock`): the "
        "claim's time plus the lock timeout; ISO 8601, UTC"
    )


class LockRenewed(BaseModel):
    ProgramId: str
    LockExpiresAt: DateTimeText = Field(
        description="The new expiry: the renewal's time plus the lock timeout; "
        "ISO 8601, UTC"
    )
    RenewedImages: int = Field(description="How many work items' locks were renewed")


class HistoryEntry(BaseModel):
    """One move of one image of the programme (one audit row)."""

    AuditId: int = Field(description="The audit row's id: entries are in its order")
    At: str = Field(description="When, ISO 8601 UTC")
    ImageId: int
    UserId: int | None = Field(description="Who made the move; null: the system")
    UserName: str | None
    ForUserId: int | None = Field(
        description="The user an admin acted for; null when nobody was"
    )
    Action: str = Field(
        description="`claim`, `finish`, `reject`, `qa_claim`, `approve`, `send_back`, "
        "`qa_reject`, `release`, `admin_release`, `expire`, `qa_skipped`"
    )
    FromStatus: int | None
    FromState: int | None
    ToStatus: int
    ToState: int
    RejectReasonId: int | None
    RejectReason: str | None
    Comment: str | None = Field(description="QA's comment with a send-back or reject")


class ProgrammeHistory(BaseModel):
    """Every audit row of the programme's images, oldest first."""

    ProgramId: str
    Entries: list[HistoryEntry]


class LocksReleased(BaseModel):
    UserId: int
    ReleasedImages: int = Field(description="How many work items were unlocked")


# The routes' response models: named subclasses, so that the OpenAPI document names
# their schemas (see api/envelope.py).


class ProgrammeEnvelope(Envelope[Programme]):
    """``Data``: the programme after the request's move."""


class ClaimEnvelope(Envelope[ClaimedProgramme | None]):
    """``Data``: the claimed programme, or null with ``Message`` `No images pending`
    when the queue is empty."""


class LocksReleasedEnvelope(Envelope[LocksReleased]):
    pass


class LockRenewedEnvelope(Envelope[LockRenewed]):
    pass


class HistoryEnvelope(Envelope[ProgrammeHistory]):
    """``Data``: the programme's history."""
