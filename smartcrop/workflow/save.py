"""Saving crops (SaveCropedImages, UpdateCroppedImageInfo) and deleting a rendition.

A save is all or nothing: every image of the request is checked (lock held, move
allowed, reason known) and every rendition validated (``rendition_rows``) before
anything is written. Then, in the request's transaction, the renditions are upserted,
the images moved (with their audit rows), and only then the image files stored, so a
refused request stores nothing. A storage failure after that raises, and the
transaction is rolled back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.orm import Session

from smartcrop.errors import Conflict, InvalidInput, NotFound
from smartcrop.renditions.storage import RenditionStorage, StorageError, rendition_key
from smartcrop.renditions.validation import DecodedImage
from smartcrop.settings import Settings
from smartcrop.workflow.comments import clean_comment
from smartcrop.workflow.finishing import FINISHING_MOVES, require_renditions
from smartcrop.workflow.locks import LockedRow, lock_rows_by_id, require_held
from smartcrop.workflow.rendition_rows import RenditionInput as RenditionInput
from smartcrop.workflow.rendition_rows import (
    update_boxes,
    upsert_renditions,
    validate_renditions,
)
from smartcrop.workflow.states import (
    FREE,
    OPERATOR_QUEUE,
    QA_QUEUE,
    Move,
    WorkState,
    check_move,
    check_reject_reason,
    finishing_target,
    move_rows,
)

log = logging.getLogger(__name__)

QaRoute = Callable[[Session, str], int]


# The QA toggle and the newest active Status 2 rule, as workflow.qa_routing.qa_route
# reads them, in one round trip. Read on every save, never cached: switching QA off
# or changing a rule applies to the next save.
_ROUTE_INPUTS = text(f"""
    SELECT (SELECT qcdisabled FROM smartcrop_settings WHERE id = 1),
           (SELECT percentage FROM smartcrop_rule
            WHERE isactive IS true AND status = {QA_QUEUE}
            ORDER BY createdat DESC, id DESC LIMIT 1)
    """)  # noqa: S608 - only the state constants are put in


def default_qa_route(session: Session, program_id: str) -> int:
    from smartcrop.workflow.qa_routing import (
        route_for,  # the QA routing rules live there
    )

    disabled, percentage = session.execute(_ROUTE_INPUTS).one()
    return route_for(program_id, bool(disabled), percentage)


@dataclass(frozen=True)
class ImageInput:
    image_id: int
    status: int
    reject_reason_id: int | None = None
    renditions: tuple[RenditionInput, ...] = field(default_factory=tuple)
    # QA's free text with a send-back or reject (workflow.comments).
    comment: str | None = None


@dataclass(frozen=True)
class SaveRequest:
    program_id: str
    images: tuple[ImageInput, ...]


STAGE_NAMES = {OPERATOR_QUEUE: "operator", QA_QUEUE: "QA"}


def check_stage(row: LockedRow, stage_statuses: tuple[int, ...]) -> None:
    if row.status not in stage_statuses:
        stages = " or ".join(STAGE_NAMES.get(s, str(s)) for s in stage_statuses)
        raise Conflict(
            f"image {row.id} is in state {row.work_state}, not in the {stages} stage"
        )


def lock_request_rows(
    session: Session,
    program_id: str,
    image_ids: list[int],
    *,
    owner_id: int,
    stage_statuses: tuple[int, ...],
    lock_timeout_minutes: int,
) -> dict[int, LockedRow]:
    """Row-lock the images; each must be of the programme and held by ``owner_id``."""
    rows = lock_rows_by_id(session, image_ids, lock_timeout_minutes)
    for image_id in image_ids:
        row = rows.get(image_id)
        if row is None or row.program_id != program_id:
            raise NotFound(f"programme {program_id} has no image {image_id}")
        require_held(row, owner_id)
        check_stage(row, stage_statuses)
    return rows


def _move_for(
    row: LockedRow, requested_status: int, reason: int | None, routed: Callable[[], int]
) -> Move:
    target = WorkState(requested_status, FREE)
    if row.status == OPERATOR_QUEUE and finishing_target(target):
        target = WorkState(routed(), FREE)
    return check_move(row.work_state, target, reason)


def save_crops(
    session: Session,
    request: SaveRequest,
    *,
    stage_status: int,
    owner_id: int,
    actor_id: int,
    settings: Settings,
    storage: RenditionStorage,
    route: QaRoute = default_qa_route,
) -> list[int]:
    """Store the renditions, move each image by its Status, release its lock.

    ``stage_status`` is 1 for an operator's save, 2 for a QA save. Operator Status:
    1 release (back to the queue), 2 or 3 finished (QA routing decides), 4 reject.
    QA Status: 3 approve, 1 send back, 4 reject (both with a reason), 2 release.
    Returns the image ids of the request.
    """
    program_id = (request.program_id or "").strip()
    if not program_id:
        raise InvalidInput("ProgramId is required")
    if not request.images:
        raise InvalidInput("Images must list at least one image")
    image_ids = [image.image_id for image in request.images]
    if len(set(image_ids)) != len(image_ids):
        raise InvalidInput("an ImageId appears more than once in Images")
    timeout = settings.smartcrop_service.lock_timeout_minutes
    rows = lock_request_rows(
        session,
        program_id,
        image_ids,
        owner_id=owner_id,
        stage_statuses=(stage_status,),
        lock_timeout_minutes=timeout,
    )

    routed_status: list[int] = []

    def routed() -> int:  # asked once per request, and only when an image finishes
        if not routed_status:
            routed_status.append(route(session, program_id))
        return routed_status[0]

    # Images making the same move with the same reason and comment move together.
    groups: dict[tuple[Move, int | None, str | None], list[int]] = {}
    for image in request.images:
        row = rows[image.image_id]
        move = _move_for(row, image.status, image.reject_reason_id, routed)
        reason = image.reject_reason_id if move.needs_reason else None
        check_reject_reason(session, reason)
        comment = clean_comment(image.comment)
        if comment is not None and not move.needs_reason:
            raise InvalidInput(
                f"image {image.image_id}: a Comment goes with a reject or a "
                "send-back only"
            )
        groups.setdefault((move, reason, comment), []).append(image.image_id)

    checked = validate_renditions(
        session,
        [(image.image_id, image.renditions) for image in request.images],
        rows,
        settings,
    )
    writes = checked.writes
    require_renditions(
        session,
        [
            i
            for (move, _, _), ids in groups.items()
            if move in FINISHING_MOVES
            for i in ids
        ],
        required_aspect_ratios=settings.smartcrop_service.required_aspect_ratios,
        sent={
            image.image_id: [r.aspect_ratio_id for r in image.renditions]
            for image in request.images
        },
    )

    # Nothing was refused: write the rows, move the images, then store the files.
    keys = [
        rendition_key(
            write.image.provider_name,
            program_id,
            write.image.id,
            write.aspect.title,
            write.decoded.extension,
        )
        for write in writes
    ]
    previous = upsert_renditions(
        session, program_id, writes, keys, owner_id=owner_id, settings=settings
    )
    update_boxes(session, program_id, checked.boxes, owner_id=owner_id)
    stored: list[tuple[str, DecodedImage]] = []
    stale_keys: list[str] = []
    for write, key in zip(writes, keys, strict=True):
        old_key = previous.get((write.image.id, write.aspect.id))
        if old_key is not None and old_key != key:
            stale_keys.append(old_key)  # the format changed: png <-> jpg
        stored.append((key, write.decoded))

    for (move, reason, comment), ids in groups.items():
        move_rows(
            session,
            move,
            ids,
            owner_id=owner_id,
            actor_id=actor_id,
            reject_reason_id=reason,
            comment=comment,
        )

    for key, decoded in stored:
        storage.put(key, decoded.data, decoded.content_type)
    for key in stale_keys:
        try:
            storage.delete(key)
        except StorageError as exc:  # an orphan file, not a wrong answer
            log.warning("could not delete replaced rendition %s: %s", key, exc)
    return image_ids


def delete_rendition(
    session: Session,
    program_id: str,
    image_id: int,
    aspect_ratio_id: int,
    *,
    owner_id: int,
    stage_statuses: tuple[int, ...],
    settings: Settings,
    storage: RenditionStorage,
) -> None:
    """Delete one rendition (row and stored image); the caller must hold the image."""
    program_id = (program_id or "").strip()
    if not program_id:
        raise InvalidInput("programId is required")
    lock_request_rows(
        session,
        program_id,
        [image_id],
        owner_id=owner_id,
        stage_statuses=stage_statuses,
        lock_timeout_minutes=settings.smartcrop_service.lock_timeout_minutes,
    )
    key = session.scalar(
        text(
            "DELETE FROM smartcrop_aspectratioimages WHERE programimageid = :image_id"
            " AND aspectratioid = :ratio_id AND link_object_id = :program_id"
            " RETURNING storagekey"
        ),
        {"image_id": image_id, "ratio_id": aspect_ratio_id, "program_id": program_id},
    )
    if key is None:
        raise NotFound(
            f"image {image_id} has no rendition for aspect ratio id {aspect_ratio_id}"
        )
    # The row is gone in this transaction; if the file cannot be removed, the error
    # rolls the row back too, so row and file never disagree.
    storage.delete(key)
