"""``GET /image/SuggestCrops``: the suggested crop of each aspect ratio for one image;
``GET /image/SourceImage``: the source image's bytes, for the crop page.

The pipeline stores suggestions for every new source image; this answers them, and
computes them on demand when there are none yet (the image was unreachable when its
file was ingested, or it came before suggestions existed) or when ``refresh=true``.
The source image is fetched with the pipeline's limits; no transaction is held while
it is fetched and analysed.

``SourceImage`` lets the crop page read the pixels of an image whose server sends no
CORS headers (a browser canvas refuses to export those): the API fetches the work
item's own URL (never one the caller chooses) and answers the bytes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.deps import CurrentUser, SessionDep, SettingsDep, require_roles
from api.envelope import JsonObject, ok
from api.query import required_int, text_param
from api.schemas.suggest import CropSuggestionsEnvelope
from smartcrop.errors import InvalidInput, NotFound
from smartcrop.netfetch import FetchPolicy
from smartcrop.suggest import service, store
from smartcrop.suggest.fetch import fetch_image
from smartcrop.suggest.store import SourceItem

router = APIRouter(prefix="/image", tags=["suggestions"])

WorkflowDep = Annotated[CurrentUser, require_roles("operator", "qa")]

_TRUE = ("1", "true", "yes")
_FALSE = ("0", "false", "no")


def _flag(value: str | None, name: str) -> bool:
    text = (text_param(value, name) or "false").lower()
    if text not in _TRUE + _FALSE:
        raise InvalidInput(f"{name} must be true or false, not {text!r}")
    return text in _TRUE


def _item_of(session: Session, program_id: str | None, image_id: int) -> SourceItem:
    item = store.source_item(session, image_id)
    if item is None or (program_id is not None and item.program_id != program_id):
        where = f" of programme {program_id}" if program_id else ""
        raise NotFound(f"Image {image_id}{where} was not found")
    return item


@router.get("/SuggestCrops", response_model=CropSuggestionsEnvelope)
def suggest_crops(
    session: SessionDep,
    settings: SettingsDep,
    caller: WorkflowDep,
    programId: str | None = None,  # noqa: N803 - the contract's parameter names
    imageId: str | None = None,  # noqa: N803
    refresh: str | None = None,
) -> JsonObject:
    """``Data``: ``{"ProgramId", "ImageId", "Width", "Height", "Suggestions": [...],
    "Computed", "Fetch"}``; ``Computed`` tells whether this request computed them."""
    program_id = text_param(programId, "programId")
    image_id = required_int(imageId, "imageId")
    again = _flag(refresh, "refresh")
    item = _item_of(session, program_id, image_id)
    suggestions = store.suggestions_by_image(session, [image_id]).get(image_id, [])
    computed = False
    if again or not suggestions:
        session.commit()  # hold nothing while the image is fetched and analysed
        outcome = service.analyse_item(item, policy=FetchPolicy.from_settings(settings))
        store.save_outcome(session, outcome)
        session.commit()  # the attempt is recorded even when it failed
        if outcome.status != "ok":
            raise InvalidInput(
                f"The source image of image {image_id} ({item.url}) cannot be "
                f"analysed: {outcome.reason}. Crop it by hand, or reject it with "
                "reason 5 (Broken image link)"
            )
        suggestions = store.suggestions_by_image(session, [image_id]).get(image_id, [])
        item = store.source_item(session, image_id) or item
        computed = True
    return ok(
        {
            "ProgramId": item.program_id,
            "ImageId": item.id,
            "Width": item.width,
            "Height": item.height,
            "Suggestions": suggestions,
            "Computed": computed,
            "Fetch": store.fetch_status(session, image_id),
        }
    )


_BINARY = {"schema": {"type": "string", "format": "binary"}}


@router.get(
    "/SourceImage",
    response_class=Response,
    responses={
        200: {
            # The type the image's server sent when it is an image/*, else this.
            "content": {"image/*": _BINARY, "application/octet-stream": _BINARY},
            "description": "The source image's bytes, as its server sent them",
        }
    },
)
def source_image(
    session: SessionDep,
    settings: SettingsDep,
    caller: WorkflowDep,
    programId: str | None = None,  # noqa: N803
    imageId: str | None = None,  # noqa: N803
) -> Response:
    """The work item's source image, as its server sent it (not enveloped)."""
    item = _item_of(
        session, text_param(programId, "programId"), required_int(imageId, "imageId")
    )
    session.commit()  # hold nothing while the image is fetched
    fetched = fetch_image(item.url, policy=FetchPolicy.from_settings(settings))
    if not fetched.ok or fetched.data is None:
        raise InvalidInput(
            f"The source image of image {item.id} ({item.url}) cannot be fetched: "
            f"{fetched.reason}"
        )
    content_type = fetched.content_type or ""
    if not content_type.startswith("image/"):
        content_type = "application/octet-stream"
    return Response(
        fetched.data,
        media_type=content_type,
        headers={"Cache-Control": "private, max-age=300"},
    )
