"""The suggestion rows: which work items need them, saving outcomes, reading them back.

Plain SQL on a SQLAlchemy ``Session`` (the API's request session or the pipeline's),
so both share one set of statements. Nothing here touches the network or OpenCV.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from smartcrop.suggest.boxes import Box


@dataclass(frozen=True)
class SourceItem:
    """A work item's source image, as the suggestion step needs it."""

    id: int
    program_id: str
    url: str
    width: int | None
    height: int | None

    @property
    def declared_size(self) -> tuple[int, int] | None:
        if self.width and self.height:
            return self.width, self.height
        return None


@dataclass(frozen=True)
class StoredSuggestion:
    aspect_ratio_id: int
    box: Box
    score: float
    method: str


@dataclass(frozen=True)
class Outcome:
    """What analysing one item gave: suggestions, or the reason there are none."""

    item: SourceItem
    status: str  # "ok" | "failed"
    reason: str | None = None
    http_status: int | None = None
    content_type: str | None = None
    size_bytes: int | None = None
    image_size: tuple[int, int] | None = None
    suggestions: Sequence[StoredSuggestion] = ()


_ITEM_COLUMNS = "p.id, p.link_object_id, p.imageurl, p.width, p.height"

_ITEMS_OF_FILE = text(f"""
    SELECT {_ITEM_COLUMNS}
    FROM smartcrop_programimage p
    WHERE p.id IN (
        SELECT programimageid FROM smartcrop_inputfiles
        WHERE uploadfileid = :file AND programimageid IS NOT NULL)
      AND (:refresh OR NOT EXISTS (
        SELECT 1 FROM smartcrop_imagefetch f
        WHERE f.programimageid = p.id AND f.status = 'ok'))
    ORDER BY p.id
    """)  # noqa: S608 - a constant column list, no input

_ITEM = text(f"""
    SELECT {_ITEM_COLUMNS} FROM smartcrop_programimage p WHERE p.id = :id
    """)  # noqa: S608 - a constant column list, no input

_FILL_SIZE = text("""
    UPDATE smartcrop_programimage SET width = :w, height = :h, updatedat = now()
    WHERE id = :id AND (width IS NULL OR height IS NULL)
    """)

_UPSERT_SUGGESTION = text("""
    INSERT INTO smartcrop_cropsuggestion
        (programimageid, aspectratioid, x, y, width, height, score, method)
    VALUES (:id, :ratio, :x, :y, :w, :h, :score, :method)
    ON CONFLICT (programimageid, aspectratioid) DO UPDATE SET
        x = excluded.x, y = excluded.y, width = excluded.width,
        height = excluded.height, score = excluded.score, method = excluded.method,
        createdat = now()
    """)

_DROP_OTHER_SUGGESTIONS = text("""
    DELETE FROM smartcrop_cropsuggestion
    WHERE programimageid = :id AND NOT (aspectratioid = ANY(:kept))
    """)

_UPSERT_FETCH = text("""
    INSERT INTO smartcrop_imagefetch
        (programimageid, status, reason, httpstatus, contenttype, filesize,
         imagewidth, imageheight)
    VALUES (:id, :status, :reason, :http, :ctype, :size, :iw, :ih)
    ON CONFLICT (programimageid) DO UPDATE SET
        status = excluded.status, reason = excluded.reason,
        httpstatus = excluded.httpstatus, contenttype = excluded.contenttype,
        filesize = excluded.filesize,
        imagewidth = coalesce(excluded.imagewidth, smartcrop_imagefetch.imagewidth),
        imageheight = coalesce(excluded.imageheight, smartcrop_imagefetch.imageheight),
        attempts = smartcrop_imagefetch.attempts + 1, fetchedat = now()
    """)

_SUGGESTIONS = text("""
    SELECT s.programimageid, s.aspectratioid, a.title, s.x, s.y, s.width, s.height,
           s.score, s.method
    FROM smartcrop_cropsuggestion s
    JOIN smartcrop_aspectratio_lookup a ON a.id = s.aspectratioid
    WHERE s.programimageid IN :ids
    ORDER BY s.programimageid, s.aspectratioid
    """).bindparams(bindparam("ids", expanding=True))

_FETCH = text("""
    SELECT status, reason, httpstatus, imagewidth, imageheight, attempts, fetchedat
    FROM smartcrop_imagefetch WHERE programimageid = :id
    """)


def _item(row: Any) -> SourceItem:
    return SourceItem(row[0], row[1], row[2], row[3], row[4])


def items_of_file(
    session: Session, upload_file_id: int, *, refresh: bool = False
) -> list[SourceItem]:
    """The work items a provider file's rows point at that have no suggestions yet
    (all of them with ``refresh``): new items, and known ones never analysed."""
    rows = session.execute(_ITEMS_OF_FILE, {"file": upload_file_id, "refresh": refresh})
    return [_item(row) for row in rows]


def source_item(session: Session, image_id: int) -> SourceItem | None:
    row = session.execute(_ITEM, {"id": image_id}).first()
    return _item(row) if row is not None else None


def save_outcome(session: Session, outcome: Outcome) -> None:
    """Store one item's outcome: the fetch status, and on success its suggestions and
    (when the work item had none) the image's width and height."""
    item = outcome.item
    image_w, image_h = outcome.image_size or (None, None)
    session.execute(
        _UPSERT_FETCH,
        {
            "id": item.id,
            "status": outcome.status,
            "reason": outcome.reason,
            "http": outcome.http_status,
            "ctype": (outcome.content_type or None) and outcome.content_type[:128],
            "size": outcome.size_bytes,
            "iw": image_w,
            "ih": image_h,
        },
    )
    if outcome.status != "ok":
        return  # suggestions from an earlier fetch, if any, stay
    if image_w and image_h:
        session.execute(_FILL_SIZE, {"id": item.id, "w": image_w, "h": image_h})
    session.execute(
        _DROP_OTHER_SUGGESTIONS,
        {"id": item.id, "kept": [s.aspect_ratio_id for s in outcome.suggestions]},
    )
    for suggestion in outcome.suggestions:
        session.execute(
            _UPSERT_SUGGESTION,
            {
                "id": item.id,
                "ratio": suggestion.aspect_ratio_id,
                "x": suggestion.box.x,
                "y": suggestion.box.y,
                "w": suggestion.box.width,
                "h": suggestion.box.height,
                "score": suggestion.score,
                "method": suggestion.method,
            },
        )


def suggestions_by_image(
    session: Session, image_ids: Iterable[int]
) -> dict[int, list[dict[str, Any]]]:
    """The stored suggestions of these work items, in the API's shape, by item id."""
    ids = list(image_ids)
    found: dict[int, list[dict[str, Any]]] = {}
    if not ids:
        return found
    for row in session.execute(_SUGGESTIONS, {"ids": ids}):
        image_id, ratio_id, title, x, y, width, height, score, method = row
        found.setdefault(image_id, []).append(
            {
                "AspectRatioId": ratio_id,
                "AspectRatio": title,
                "X": x,
                "Y": y,
                "Width": width,
                "Height": height,
                "Score": score,
                "Method": method,
            }
        )
    return found


def fetch_status(session: Session, image_id: int) -> dict[str, Any] | None:
    """The last fetch of a work item's image, in the API's shape (None: never)."""
    row = session.execute(_FETCH, {"id": image_id}).first()
    if row is None:
        return None
    status, reason, http_status, width, height, attempts, fetched_at = row
    return {
        "Status": status,
        "Reason": reason,
        "HttpStatus": http_status,
        "ImageWidth": width,
        "ImageHeight": height,
        "Attempts": attempts,
        "FetchedAt": fetched_at.isoformat() if fetched_at else None,
    }
