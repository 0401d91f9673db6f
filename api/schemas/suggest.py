"""``Data`` of ``GET /image/SuggestCrops``: a work item's suggested crops."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.envelope import Envelope
from api.schemas.common import DateTimeText
from api.schemas.image import Suggestion


class ImageFetch(BaseModel):
    """The last download of the work item's source image."""

    Status: str = Field(description="`ok` or `failed` (Reason says why)")
    Reason: str | None
    HttpStatus: int | None
    ImageWidth: int | None
    ImageHeight: int | None
    Attempts: int
    FetchedAt: DateTimeText


class CropSuggestions(BaseModel):
    ProgramId: str
    ImageId: int
    Width: int | None = Field(description="The source image's width, when known")
    Height: int | None
    Suggestions: list[Suggestion]
    Computed: bool = Field(description="True: computed by this request")
    Fetch: ImageFetch | None = Field(description="Null: never fetched")


# The routes' response models: named subclasses, so that the OpenAPI document names
# their schemas (see api/envelope.py).


class CropSuggestionsEnvelope(Envelope[CropSuggestions]):
    pass
