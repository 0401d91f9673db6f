"""The rendition rows a save writes: checked, then upserted in one statement.

Every rendition of a save is checked (aspect ratio known, box inside the source and
of the ratio, the image decoded and of the size its header says) before anything is
written; then the renditions sent with an image are upserted in one statement, which
answers the storage keys they replace, and those sent without one get their new box.
``save.save_crops`` stores the files after the moves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from smartcrop.errors import InvalidInput
from smartcrop.renditions.storage import public_url
from smartcrop.renditions.validation import (
    AspectRatioSpec,
    CropBox,
    DecodedImage,
    check_crop_box,
    decode_image,
)
from smartcrop.settings import Settings
from smartcrop.workflow.cache import TtlCache
from smartcrop.workflow.locks import LockedRow


@dataclass(frozen=True)
class RenditionInput:
    aspect_ratio_id: int
    x: int
    y: int
    width: int
    height: int
    image_base64: str | None = None


@dataclass(frozen=True)
class RenditionWrite:
    image: LockedRow
    rendition: RenditionInput
    aspect: AspectRatioSpec
    decoded: DecodedImage


@dataclass(frozen=True)
class NewBox:
    """A stored rendition's new crop box, sent without a new image."""

    image_id: int
    aspect_ratio_id: int
    box: CropBox


@dataclass(frozen=True)
class CheckedRenditions:
    """A request's renditions once checked: what to write."""

    writes: list[RenditionWrite]
    boxes: list[NewBox]


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


def upsert_renditions(
    session: Session,
    program_id: str,
    writes: list[RenditionWrite],
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


def update_boxes(
    session: Session, program_id: str, boxes: list[NewBox], *, owner_id: int
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


def validate_renditions(
    session: Session,
    images: Sequence[tuple[int, Sequence[RenditionInput]]],
    rows: dict[int, LockedRow],
    settings: Settings,
) -> CheckedRenditions:
    """Every rendition of a request's ``(image id, renditions)`` checked; the ones
    carrying an image decoded, the ones without one compared with the stored box."""
    ratios = aspect_ratios(session)
    max_bytes = settings.smartcrop_service.max_rendition_bytes
    keep = [
        (image_id, rendition.aspect_ratio_id)
        for image_id, renditions in images
        for rendition in renditions
        if rendition.image_base64 is None
    ]
    stored = _stored_boxes(session, [image_id for image_id, _ in keep]) if keep else {}
    writes: list[RenditionWrite] = []
    boxes: list[NewBox] = []
    for image_id, renditions in images:
        row = rows[image_id]
        seen: set[int] = set()
        for rendition in renditions:
            aspect = ratios.get(rendition.aspect_ratio_id)
            label = f"image {image_id}, AspectRatioId {rendition.aspect_ratio_id}"
            if aspect is None:
                raise InvalidInput(
                    f"{label}: not an aspect ratio (see /lookup/GetAspectRatioLookup)"
                )
            label = f"image {image_id}, aspect ratio {aspect.title}"
            if aspect.id in seen:
                raise InvalidInput(f"{label}: given twice")
            seen.add(aspect.id)
            box = CropBox(rendition.x, rendition.y, rendition.width, rendition.height)
            if rendition.image_base64 is None:
                # No new picture: the stored image is kept, and a new box replaces
                # the stored one (an unchanged box was checked when it was stored).
                old_box = stored.get((image_id, aspect.id))
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
                    boxes.append(NewBox(image_id, aspect.id, box))
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
            writes.append(RenditionWrite(row, rendition, aspect, decoded))
    return CheckedRenditions(writes, boxes)
