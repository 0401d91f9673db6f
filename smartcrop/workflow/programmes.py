"""The Programme payload of contract 4.1, built from the database.

Every URL in it (source image, rendition) goes through the CDN rewrite. Renditions
carry ``ImageBase64`` only when asked for (QA review) and the stored image can be read.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.orm import Session

from smartcrop.errors import Conflict
from smartcrop.renditions.cdn import cdn_url
from smartcrop.renditions.storage import RenditionStorage, StorageError
from smartcrop.settings import Settings
from smartcrop.workflow.states import LOCKED

log = logging.getLogger(__name__)

# The programme's images with, per image, its renditions and its stored crop
# suggestions as JSON arrays: one statement (one round trip) for the whole answer.
# The suggestions are read as smartcrop.suggest.store.suggestions_by_image reads them
# (tests/workflow/test_programmes.py holds the two to the same answer), and the
# image's latest send-back (its comment and who made it: for an admin acting for a
# QA user, that user) from the audit trail's index on the image. ``{rows}`` picks the
# images: the ones a claim took, or every image of one programme.
_PROGRAMME = """
    SELECT p.id, p.link_object_id, p.providername, p.programtitle, p.imageurl,
           p.imagetypeid, coalesce(t.title, p.imagetype), p.languageid,
           coalesce(l.title, p.language), p.width, p.height, p.status,
           p.currentstate, p.lockedby, p.rejectreasonid, p.notes,
           (SELECT json_agg(json_build_array(a.aspectratioid, ar.title, a.cropx,
                       a.cropy, a.cropwidth, a.cropheight, a.imageurl, a.storagekey)
                       ORDER BY a.aspectratioid)
            FROM smartcrop_aspectratioimages a
            JOIN smartcrop_aspectratio_lookup ar ON ar.id = a.aspectratioid
            WHERE a.programimageid = p.id) AS renditions,
           (SELECT json_agg(json_build_array(s.aspectratioid, sr.title, s.x, s.y,
                       s.width, s.height, s.score, s.method)
                       ORDER BY s.aspectratioid)
            FROM smartcrop_cropsuggestion s
            JOIN smartcrop_aspectratio_lookup sr ON sr.id = s.aspectratioid
            WHERE s.programimageid = p.id) AS suggestions,
           (SELECT json_build_array(au.comment, b.id, b.username)
            FROM smartcrop_programimage_audit au
            JOIN smartcrop_user b
              ON b.id = coalesce(CAST(au.details ->> 'for_user' AS integer), au.userid)
            WHERE au.programimageid = p.id AND au.action = 'send_back'
            ORDER BY au.id DESC LIMIT 1) AS sent_back,
           p.lockedat
    FROM smartcrop_programimage p
    LEFT JOIN smartcrop_imagetype_lookup t ON t.id = p.imagetypeid
    LEFT JOIN smartcrop_imagelanguage_lookup l ON l.id = p.languageid
    WHERE {rows}
    ORDER BY p.id
    """
_BY_IDS = text(_PROGRAMME.format(rows="p.id = ANY(:ids)"))
# Every image of the programme, whatever its state or holder (the link_object_id
# index finds them).
_BY_PROGRAMME = text(_PROGRAMME.format(rows="p.link_object_id = :program_id"))


def _read_base64(storage: RenditionStorage, key: str) -> str | None:
    try:
        data = storage.get(key)
    except StorageError as exc:
        # The review can go on without the picture; the URL is still given.
        log.warning("rendition %s could not be read: %s", key, exc)
        return None
    return base64.b64encode(data).decode("ascii") if data is not None else None


def build_programme(
    session: Session,
    image_ids: list[int],
    settings: Settings,
    *,
    storage: RenditionStorage | None = None,
) -> dict[str, Any] | None:
    """The Programme holding these work items (None when there are none): what a
    claim answers.

    With ``storage``, each rendition's ``ImageBase64`` is its stored image.
    """
    images = session.execute(_BY_IDS, {"ids": list(image_ids)}).all()
    return _programme(images, settings, storage)


def claimed_programme(
    session: Session,
    image_ids: list[int],
    settings: Settings,
    *,
    lock_timeout_minutes: int,
    storage: RenditionStorage | None = None,
) -> tuple[dict[str, Any], datetime] | None:
    """What a claim answers: the Programme of these work items and when the lock on
    them lapses unless renewed (the earliest ``lockedat`` plus the timeout), read in
    the one statement that reads the programme (the claim's statement budget).
    None when there are no such items; 409 when none of them is locked any more."""
    images = session.execute(_BY_IDS, {"ids": list(image_ids)}).all()
    programme = _programme(images, settings, storage)
    if programme is None:
        return None
    held = [
        row.lockedat
        for row in images
        if row.currentstate == LOCKED and row.lockedat is not None
    ]
    if not held:
        raise Conflict("the programme's lock ended before the answer was made")
    return programme, min(held) + timedelta(minutes=lock_timeout_minutes)


def programme_after_write(
    session: Session, program_id: str, settings: Settings
) -> dict[str, Any] | None:
    """The Programme after a save or a status update (contract 4.1: "the Programme
    after the save"): every image of it, also those the request did not name and
    those no longer held, in the shape a claim answers (None when there is none)."""
    images = session.execute(
        _BY_PROGRAMME, {"program_id": (program_id or "").strip()}
    ).all()
    return _programme(images, settings, None)


def _programme(
    images: Sequence[Row[*tuple[Any, ...]]],
    settings: Settings,
    storage: RenditionStorage | None,
) -> dict[str, Any] | None:
    if not images:
        return None
    first = images[0]
    return {
        "ProgramId": first.link_object_id,
        "ProviderName": first.providername,
        "ProgramTitle": first.programtitle,
        "Images": [
            {
                "ImageId": row[0],
                "ImageUrl": cdn_url(row[4], settings),
                "ImageTypeId": row[5],
                "ImageType": row[6],
                "LanguageId": row[7],
                "Language": row[8],
                "Width": row[9],
                "Height": row[10],
                "Status": row[11],
                "CurrentState": row[12],
                "LockedBy": row[13],
                "RejectReasonId": row[14],
                "Notes": row[15] or "",
                "Renditions": [
                    _rendition(item, settings, storage) for item in row[16] or ()
                ],
                "Suggestions": [_suggestion(item) for item in row[17] or ()],
                **_sent_back(row[18]),
            }
            for row in images
        ],
    }


def _rendition(
    item: list[Any], settings: Settings, storage: RenditionStorage | None
) -> dict[str, Any]:
    ratio_id, title, x, y, width, height, url, key = item
    return {
        "AspectRatioId": ratio_id,
        "AspectRatio": title,
        "X": x,
        "Y": y,
        "Width": width,
        "Height": height,
        "Url": cdn_url(url, settings),
        "ImageBase64": _read_base64(storage, key) if storage else None,
    }


def _sent_back(item: list[Any] | None) -> dict[str, Any]:
    """``LastComment`` and ``SentBackBy`` of an image's latest send-back (nulls when
    it was never sent back)."""
    if item is None:
        return {"LastComment": None, "SentBackBy": None}
    comment, user_id, user_name = item
    return {
        "LastComment": comment,
        "SentBackBy": {"UserId": user_id, "UserName": user_name},
    }


def _suggestion(item: list[Any]) -> dict[str, Any]:
    # JSON carries a float8 in its shortest exact form, so Score is the very float
    # the column holds.
    ratio_id, title, x, y, width, height, score, method = item
    return {
        "AspectRatioId": ratio_id,
        "AspectRatio": title,
        "X": x,
        "Y": y,
        "Width": width,
        "Height": height,
        "Score": float(score),
        "Method": method,
    }
