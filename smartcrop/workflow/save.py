"""Saving crops (SaveCropedImages, UpdateCroppedImageInfo) and deleting a rendition.

A save is all or nothing: every image of the request is checked (lock held, move
allowed, reason known) and every rendition validated before anything is written. Then,
in the request's transaction, the renditions are upserted, the images moved (with
their audit rows), and only then the image files stored, so a refused request stores
nothing. A storage failure after that raises, and the transaction is rolled back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.orm import Session

from smartcrop.errors import Conflict, InvalidInput, NotFound
from smartcrop.renditions.storage import (
    RenditionStorage,
    StorageError,
    public_url,
    rendition_key,
)
from smartcrop.renditions.validation import (
    AspectRatioSpec,
    CropBox,
    DecodedImage,
    check_crop_box,
    decode_image,
)
from smartcrop.settings import Settings
from smartcrop.workflow.cache import TtlCache
from smartcrop.workflow.finishing import FINISHING_MOVES, require_renditions
from smartcrop.workflow.locks import LockedRow, lock_rows_by_id, require_held
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
class RenditionInput:
    aspect_ratio_id: int
    x: int
    y: int
    width: int
    height: int
    image_base64: str | None = None


@dataclass(frozen=True)
class ImageInput:
    image_id: int
    status: int
    reject_reason_id: int | None = None
    renditions: tuple[RenditionInput, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class SaveRequest:
    program_id: str
    images: tuple[ImageInput, ...]


@dataclass(frozen=True)
class _Write:
    image: LockedRow
    rendition: RenditionInput
    aspect: AspectRatioSpec
    decoded: DecodedImage


@dataclass(frozen=True)
class _NewBox:
    """A stored rendition's new crop box, sent without a new image."""

    image_id: int
    aspect_ratio_id: int
    box: CropBox


@dataclass(frozen=True)
class _Checked:
    """A request's renditions once checked: what to write."""

    writes: list[_Write]
    boxes: list[_NewBox]


STAGE_NAMES = {OPERATOR_QUEUE: "operator", QA_QUEUE: "QA"}


# The aspect-ratio lookup changes only with a migration, and every save needs it: it
# is read at most every few seconds per process (and per database).
ASPECT_RATIO_MAX_AGE_SECONDS = 5.0
_aspect_ratio_cache: TtlCache[dict[int, AspectRatioSpec]] = TtlCache(
    ASPECT_RATIO_MAX_AGE_SECONDS
)


def _read_aspect_ratios(session: Session) -> dict[int, AspectRatioSpec]:
    rows = session.execute(
        text(
            "SELECT id, title, ratiowidth, ratioheight"
            " FROM smartcrop_aspectratio_lookup ORDER BY id"
        )
    )
    return {row[0]: AspectRatioSpec(*row) for row in rows}


def aspect_ratios(session: Session) -> dict[int, AspectRatioSpec]:
    """The aspect-ratio lookup by id (at most ASPECT_RATIO_MAX_AGE_SECONDS old)."""
    return dict(_aspect_ratio_cache.get(session, _read_aspect_ratios))


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


def _stored_boxes(
    session: Session, image_ids: list[int]
) -> dict[tuple[int, int], CropBox]:
    """The crop box of each stored rendition of these images, by (image, ratio)."""
    rows = session.execute(
        text(
            "SELECT programimageid, aspectratioid, cropx, cropy, cropwidth, cropheight"
            " FROM smartcrop_aspectratioimages WHERE programimageid = ANY(:ids)"
        ),
        {"ids": image_ids},
    )
    return {(row[0], row[1]): CropBox(*row[2:]) for row in rows}


# Every rendition of a request in one statement, answering the storage key each one
# replaces (``prev`` reads the rows as they were before this statement's upsert).
_UPSERT = text("""
    WITH new AS (
        SELECT * FROM unnest(
            CAST(:image_ids AS bigint[]), CAST(:ratio_ids AS integer[]),
            CAST(:xs AS integer[]), CAST(:ys AS integer[]),
            CAST(:ws AS integer[]), CAST(:hs AS integer[]),
            CAST(:keys AS text[]), CAST(:urls AS text[]), CAST(:sizes AS bigint[]))
            AS n(image_id, ratio_id, x, y, w, h, key, url, size)
    ),
    prev AS (
        SELECT a.programimageid, a.aspectratioid, a.storagekey
        FROM smartcrop_aspectratioimages a
        JOIN new ON a.programimageid = new.image_id AND a.aspectratioid = new.ratio_id
    ),
    upserted AS (
        INSERT INTO smartcrop_aspectratioimages (programimageid, link_object_id,
            aspectratioid, cropx, cropy, cropwidth, cropheight, storagekey, imageurl,
            filesize, createdby, updatedby)
        SELECT image_id, :program_id, ratio_id, x, y, w, h, key, url, size,
            :owner, :owner
        FROM new
        ON CONFLICT (link_object_id, aspectratioid, programimageid) DO UPDATE SET
            cropx = EXCLUDED.cropx, cropy = EXCLUDED.cropy,
            cropwidth = EXCLUDED.cropwidth, cropheight = EXCLUDED.cropheight,
            storagekey = EXCLUDED.storagekey, imageurl = EXCLUDED.imageurl,
            filesize = EXCLUDED.filesize, updatedby = EXCLUDED.updatedby,
            updatedat = now()
    )
    SELECT programimageid, aspectratioid, storagekey FROM prev
    """)


def _upsert_renditions(
    session: Session,
    program_id: str,
    writes: list[_Write],
    keys: list[str],
    *,
    owner_id: int,
    settings: Settings,
) -> dict[tuple[int, int], str]:
    """Insert or update these renditions; returns the keys they had before."""
    if not writes:
        return {}
    rows = session.execute(
        _UPSERT,
        {
            "program_id": program_id,
            "owner": owner_id,
            "image_ids": [w.image.id for w in writes],
            "ratio_ids": [w.aspect.id for w in writes],
            "xs": [w.rendition.x for w in writes],
            "ys": [w.rendition.y for w in writes],
            "ws": [w.rendition.width for w in writes],
            "hs": [w.rendition.height for w in writes],
            "keys": keys,
            "urls": [public_url(settings, key) for key in keys],
            "sizes": [len(w.decoded.data) for w in writes],
        },
    )
    return {(row[0], row[1]): row[2] for row in rows}


# New crop boxes of renditions sent without an image: the stored image is kept
# (legacy behaviour: the image is uploaded again only when the request carries one).
_UPDATE_BOXES = text("""
    UPDATE smartcrop_aspectratioimages a SET
        cropx = n.x, cropy = n.y, cropwidth = n.w, cropheight = n.h,
        updatedby = :owner, updatedat = now()
    FROM unnest(
        CAST(:image_ids AS bigint[]), CAST(:ratio_ids AS integer[]),
        CAST(:xs AS integer[]), CAST(:ys AS integer[]),
        CAST(:ws AS integer[]), CAST(:hs AS integer[]))
        AS n(image_id, ratio_id, x, y, w, h)
    WHERE a.programimageid = n.image_id AND a.aspectratioid = n.ratio_id
      AND a.link_object_id = :program_id
    """)


def _update_boxes(
    session: Session, program_id: str, boxes: list[_NewBox], *, owner_id: int
) -> None:
    if not boxes:
        return
    session.execute(
        _UPDATE_BOXES,
        {
            "program_id": program_id,
            "owner": owner_id,
            "image_ids": [b.image_id for b in boxes],
            "ratio_ids": [b.aspect_ratio_id for b in boxes],
            "xs": [b.box.x for b in boxes],
            "ys": [b.box.y for b in boxes],
            "ws": [b.box.width for b in boxes],
            "hs": [b.box.height for b in boxes],
        },
    )


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

    # Images making the same move with the same reason move together.
    groups: dict[tuple[Move, int | None], list[int]] = {}
    for image in request.images:
        row = rows[image.image_id]
        move = _move_for(row, image.status, image.reject_reason_id, routed)
        reason = image.reject_reason_id if move.needs_reason else None
        check_reject_reason(session, reason)
        groups.setdefault((move, reason), []).append(image.image_id)

    checked = _validate_renditions(session, request, rows, settings)
    writes = checked.writes
    require_renditions(
        session,
        [
            i
            for (move, _), ids in groups.items()
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
    previous = _upsert_renditions(
        session, program_id, writes, keys, owner_id=owner_id, settings=settings
    )
    _update_boxes(session, program_id, checked.boxes, owner_id=owner_id)
    stored: list[tuple[str, DecodedImage]] = []
    stale_keys: list[str] = []
    for write, key in zip(writes, keys, strict=True):
        old_key = previous.get((write.image.id, write.aspect.id))
        if old_key is not None and old_key != key:
            stale_keys.append(old_key)  # the format changed: png <-> jpg
        stored.append((key, write.decoded))

    for (move, reason), ids in groups.items():
        move_rows(
            session,
            move,
            ids,
            owner_id=owner_id,
            actor_id=actor_id,
            reject_reason_id=reason,
        )

    for key, decoded in stored:
        storage.put(key, decoded.data, decoded.content_type)
    for key in stale_keys:
        try:
            storage.delete(key)
        except StorageError as exc:  # an orphan file, not a wrong answer
            log.warning("could not delete replaced rendition %s: %s", key, exc)
    return image_ids


def _validate_renditions(
    session: Session,
    request: SaveRequest,
    rows: dict[int, LockedRow],
    settings: Settings,
) -> _Checked:
    """Every rendition of the request checked; the ones carrying an image decoded,
    the ones without one compared with the stored box."""
    ratios = aspect_ratios(session)
    max_bytes = settings.smartcrop_service.max_rendition_bytes
    keep = [
        (image.image_id, rendition.aspect_ratio_id)
        for image in request.images
        for rendition in image.renditions
        if rendition.image_base64 is None
    ]
    stored = _stored_boxes(session, [image_id for image_id, _ in keep]) if keep else {}
    writes: list[_Write] = []
    boxes: list[_NewBox] = []
    for image in request.images:
        row = rows[image.image_id]
        seen: set[int] = set()
        for rendition in image.renditions:
            aspect = ratios.get(rendition.aspect_ratio_id)
            label = f"image {image.image_id}, AspectRatioId {rendition.aspect_ratio_id}"
            if aspect is None:
                raise InvalidInput(
                    f"{label}: not an aspect ratio (see /lookup/GetAspectRatioLookup)"
                )
            label = f"image {image.image_id}, aspect ratio {aspect.title}"
            if aspect.id in seen:
                raise InvalidInput(f"{label}: given twice")
            seen.add(aspect.id)
            box = CropBox(rendition.x, rendition.y, rendition.width, rendition.height)
            if rendition.image_base64 is None:
                # No new picture: the stored image is kept, and a new box replaces
                # the stored one (an unchanged box was checked when it was stored).
                old_box = stored.get((image.image_id, aspect.id))
                if old_box is None:
                    raise InvalidInput(
                        f"{label}: ImageBase64 is required (nothing is stored yet)"
                    )
                if box != old_box:
                    check_crop_box(
                        box,
                        aspect,
                        source_width=row.width,
                        source_height=row.height,
                        label=label,
                    )
                    boxes.append(_NewBox(image.image_id, aspect.id, box))
                continue
            check_crop_box(
                box,
                aspect,
                source_width=row.width,
                source_height=row.height,
                label=label,
            )
            decoded = decode_image(
                rendition.image_base64,
                width=rendition.width,
                height=rendition.height,
                max_bytes=max_bytes,
                label=label,
            )
            writes.append(_Write(row, rendition, aspect, decoded))
    return _Checked(writes, boxes)


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
