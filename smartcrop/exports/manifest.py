"""The nightly manifest (contract section 6): completed renditions not yet shipped,
as one CSV, sent to every configured target, then stamped.

Crash safety (docs/exports.md): the rows are chosen, written, sent and stamped inside
ONE database transaction that holds them locked:

1. ``prepare`` (its own, committed transaction): with QA disabled, images waiting in
   QA (2,0) are completed through the workflow's state machine (with audit rows); a
   missing image type or language id is resolved from the lookups and stored.
2. The export transaction takes a transaction-scoped advisory lock (one export at a
   time, across processes and hosts), picks whole images (``max_rows``) into a
   temporary table and locks their rows, streams the CSV out with ``COPY ... TO
   STDOUT``, uploads it to every target, and only then stamps the rows
   (``outputfilename``, ``exportedat``) and commits.

A failed upload rolls back: nothing is stamped and the next run exports the same rows
again under a new name. A crash anywhere before the commit (process killed, host
lost) ends the connection, and PostgreSQL aborts the transaction: again nothing is
stamped and the lock is gone. A row is stamped only by the one commit that follows
the successful upload of the file it is in, so no row ever carries two files' stamps.
The price is at-least-once delivery: a file sent just before a crash is sent again,
under the next file's name, and only that second file's name is stamped.
"""

from __future__ import annotations

import csv
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import psycopg
from sqlalchemy import text
from sqlalchemy.orm import Session

from smartcrop import lookups
from smartcrop.db import libpq_url, session_scope
from smartcrop.exports import targets
from smartcrop.renditions.cdn import rewrite_url
from smartcrop.settings import CdnConfig, Settings
from smartcrop.transfer import TransferError
from smartcrop.transfer.retry import DEFAULT_RETRY, RetryPolicy
from smartcrop.workflow import states

log = logging.getLogger(__name__)

PREFIX = "SmartCrop_Manifest"
COLUMNS = (
    "ProgramId",
    "ProviderName",
    "ProgramTitle",
    "ImageId",
    "ImageType",
    "Language",
    "AspectRatio",
    "CropX",
    "CropY",
    "CropWidth",
    "CropHeight",
    "RenditionUrl",
    "SourceImageUrl",
    "CompletedBy",
    "CompletedAt",
)
# The transaction-scoped advisory lock that serialises exports ("SCMANI" in ASCII).
EXPORT_LOCK_KEY = 0x53434D414E49


Status = Literal["success", "no_rows", "failed"]


@dataclass(frozen=True)
class ExportResult:
    status: Status
    file: str | None = None
    path: Path | None = None
    rows: int = 0
    images: int = 0
    sent_to: tuple[str, ...] = ()
    completed_from_qa: int = 0
    error: str | None = None

    def response(self) -> dict[str, Any]:
        """The contract's answer (section 4.9)."""
        if self.status == "success":
            return {"status": "success", "file": self.file}
        return {"status": self.status}


@dataclass(frozen=True)
class Prepared:
    completed_from_qa: int = 0
    resolved: dict[str, int] = field(default_factory=dict)


def manifest_name(when: datetime) -> str:
    """``SmartCrop_Manifest_YYYYMMDD_HHMMSS.csv`` in UTC."""
    return f"{PREFIX}_{when.astimezone(UTC):%Y%m%d_%H%M%S}.csv"


# --- step 1: prepare ----------------------------------------------------------------

# The rows one cropper left in the QA queue, locked; the state machine moves them.
_QA_QUEUE_OF_CROPPER = """old AS (
    SELECT id, lockedby FROM smartcrop_programimage
    WHERE status = 2 AND currentstate = 0
      AND croppedby IS NOT DISTINCT FROM CAST(:cropper AS integer)
    ORDER BY id FOR UPDATE
)"""


def complete_qa_queue(session: Session) -> int:
    """With QA disabled, move every (2,0) row to (3,0); return how many moved.

    The operator who cropped an image is recorded as who completed it (QA was
    skipped, so their crop is the final one); the audit row names no user (the
    system did it) and says why.
    """
    # FOR SHARE: the QA toggle cannot flip while we act on it.
    disabled = session.scalar(
        text("SELECT qcdisabled FROM smartcrop_settings WHERE id = 1 FOR SHARE")
    )
    if not disabled:
        return 0
    croppers = session.scalars(
        text(
            "SELECT DISTINCT croppedby FROM smartcrop_programimage"
            " WHERE status = 2 AND currentstate = 0"
        )
    ).all()
    moved = 0
    for cropper in croppers:
        moved += len(
            states.apply_move(
                session,
                states.QA_SKIPPED,
                _QA_QUEUE_OF_CROPPER,
                {"cropper": cropper},
                owner_id=cropper,
                actor_id=None,
                details={"reason": "QA disabled: completed by the nightly manifest"},
            )
        )
    return moved


# Fixed statements per lookup (no column names built at run time).
_MISSING_TYPES = (
    "SELECT DISTINCT imagetype FROM smartcrop_programimage"
    " WHERE status = 3 AND outputfilename IS NULL AND imagetypeid IS NULL"
    " AND imagetype IS NOT NULL"
)
_SET_TYPE = text(
    "UPDATE smartcrop_programimage SET imagetypeid = :id, updatedat = now()"
    " WHERE status = 3 AND outputfilename IS NULL AND imagetypeid IS NULL"
    " AND imagetype = :value"
)
_MISSING_LANGUAGES = (
    "SELECT DISTINCT language FROM smartcrop_programimage"
    " WHERE status = 3 AND outputfilename IS NULL AND languageid IS NULL"
    " AND language IS NOT NULL"
)
_SET_LANGUAGE = text(
    "UPDATE smartcrop_programimage SET languageid = :id, updatedat = now()"
    " WHERE status = 3 AND outputfilename IS NULL AND languageid IS NULL"
    " AND language = :value"
)


def resolve_missing_lookups(session: Session) -> dict[str, int]:
    """Give rows about to be exported the lookup ids their text maps to.

    The mapping is the ingestion's (``smartcrop.lookups``); an unknown value keeps an
    empty id and is exported as the provider's text, never guessed.
    """
    resolved = {"image_types": 0, "languages": 0}
    for key, select, update, mapper in (
        ("image_types", _MISSING_TYPES, _SET_TYPE, lookups.image_type_id),
        ("languages", _MISSING_LANGUAGES, _SET_LANGUAGE, lookups.language_id),
    ):
        for value in session.scalars(text(select)).all():
            found = mapper(value)
            if found is not None:
                result = session.execute(update, {"id": found, "value": value})
                resolved[key] += result.rowcount  # type: ignore[attr-defined]
    return resolved


def prepare(database_url: str) -> Prepared:
    """Step 1, committed on its own: these changes stand whatever the export does."""
    with session_scope(database_url) as session:
        completed = complete_qa_queue(session)
        resolved = resolve_missing_lookups(session)
    if completed:
        log.info("QA disabled: completed %d image(s) waiting in QA", completed)
    return Prepared(completed, resolved)


def pending(database_url: str) -> tuple[int, int]:
    """(images, renditions) completed and not yet in a manifest."""
    with psycopg.connect(libpq_url(database_url)) as conn:
        row = conn.execute(
            "SELECT count(DISTINCT p.id), count(a.id)"
            " FROM smartcrop_programimage p"
            " JOIN smartcrop_aspectratioimages a ON a.programimageid = p.id"
            " WHERE p.status = 3 AND p.outputfilename IS NULL"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


# --- step 2: the export transaction -------------------------------------------------

_CREATE_BATCH = (
    "CREATE TEMPORARY TABLE smartcrop_manifest_batch"
    " (id bigint PRIMARY KEY, renditions bigint NOT NULL) ON COMMIT DROP"
)

# Whole images in manifest order while their renditions fit in max_rows (NULL: all).
# The first image always goes, even when alone it is larger than max_rows: otherwise
# it would block the queue for ever. Images without renditions have no rows to send
# and are left alone.
_CHOOSE_BATCH = """
INSERT INTO smartcrop_manifest_batch (id, renditions)
SELECT id, renditions FROM (
    SELECT p.id, r.renditions,
           sum(r.renditions) OVER w AS running,
           row_number() OVER w AS position
    FROM smartcrop_programimage p
    CROSS JOIN LATERAL (
        SELECT count(*) AS renditions FROM smartcrop_aspectratioimages a
        WHERE a.programimageid = p.id
    ) r
    WHERE p.status = 3 AND p.outputfilename IS NULL AND r.renditions > 0
    WINDOW w AS (ORDER BY p.link_object_id COLLATE "C", p.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
) chosen
WHERE CAST(%(max_rows)s AS bigint) IS NULL
   OR chosen.running <= CAST(%(max_rows)s AS bigint)
   OR chosen.position = 1
"""

# Held until commit or rollback: the workflow cannot touch a row being exported.
_LOCK_BATCH = (
    "SELECT p.id FROM smartcrop_programimage p"
    " JOIN smartcrop_manifest_batch b ON b.id = p.id ORDER BY p.id FOR UPDATE OF p"
)

# Order: ProgramId, ImageId, AspectRatio, compared as the CSV shows them (byte order
# for text, numeric for ImageId), whatever the database's collation.
_COPY_ROWS = """
COPY (
    SELECT p.link_object_id::text, p.providername::text, p.programtitle::text,
           p.id::bigint, coalesce(t.title, p.imagetype)::text,
           coalesce(l.title, p.language)::text, ar.title::text,
           a.cropx::integer, a.cropy::integer, a.cropwidth::integer,
           a.cropheight::integer, a.imageurl::text, p.imageurl::text,
           u.username::text, p.completedat::timestamptz
    FROM smartcrop_manifest_batch b
    JOIN smartcrop_programimage p ON p.id = b.id
    JOIN smartcrop_aspectratioimages a ON a.programimageid = p.id
    JOIN smartcrop_aspectratio_lookup ar ON ar.id = a.aspectratioid
    LEFT JOIN smartcrop_imagetype_lookup t ON t.id = p.imagetypeid
    LEFT JOIN smartcrop_imagelanguage_lookup l ON l.id = p.languageid
    LEFT JOIN smartcrop_user u ON u.id = p.completedby
    ORDER BY p.link_object_id COLLATE "C", p.id, ar.title COLLATE "C"
) TO STDOUT (FORMAT BINARY)
"""
_COPY_TYPES = [
    "text",
    "text",
    "text",
    "int8",
    "text",
    "text",
    "text",
    "int4",
    "int4",
    "int4",
    "int4",
    "text",
    "text",
    "text",
    "timestamptz",
]
_RENDITION_URL, _SOURCE_URL, _COMPLETED_AT = 11, 12, 14

# Guarded again by "still unstamped": a row can never be stamped a second time.
_STAMP = """
UPDATE smartcrop_programimage p
SET outputfilename = %(file)s, exportedat = now(), updatedat = now()
FROM smartcrop_manifest_batch b
WHERE p.id = b.id AND p.status = 3 AND p.outputfilename IS NULL
"""


class ExportError(RuntimeError):
    """The export found the database in a state it must not stamp over."""


def _utc_text(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""


def _csv_row(row: tuple[Any, ...], cdn: CdnConfig) -> list[Any]:
    values = list(row)
    values[_RENDITION_URL] = rewrite_url(values[_RENDITION_URL], cdn)
    values[_SOURCE_URL] = rewrite_url(values[_SOURCE_URL], cdn)
    values[_COMPLETED_AT] = _utc_text(values[_COMPLETED_AT])
    return values


def write_rows(conn: psycopg.Connection, path: Path, cdn: CdnConfig) -> int:
    """Stream the batch into ``path`` (via ``<path>.part``); return the data rows.

    One row at a time from COPY to the csv writer: memory stays flat whatever the
    size of the batch. RFC 4180: CRLF line ends, fields quoted only when needed,
    quotes doubled.
    """
    part = path.with_name(path.name + ".part")
    rows = 0
    try:
        with part.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, dialect="excel")
            writer.writerow(COLUMNS)
            with conn.cursor() as cur, cur.copy(_COPY_ROWS) as copy:
                copy.set_types(_COPY_TYPES)
                for row in copy.rows():
                    writer.writerow(_csv_row(row, cdn))
                    rows += 1
            out.flush()
            os.fsync(out.fileno())
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return rows


def _free_name(conn: psycopg.Connection, folder: Path, when: datetime) -> str:
    """A file name used by no earlier manifest (stamped, or written here).

    Two runs within one second would share a name and the second file would replace
    the first at the targets; the later run takes the next second's name instead.
    """
    while True:
        name = manifest_name(when)
        used = conn.execute(
            "SELECT 1 FROM smartcrop_programimage WHERE outputfilename = %s LIMIT 1",
            (name,),
        ).fetchone()
        if used is None and not (folder / name).exists():
            return name
        when += timedelta(seconds=1)


def export_manifest(
    settings: Settings,
    database_url: str,
    *,
    now: datetime | None = None,
    retry: RetryPolicy = DEFAULT_RETRY,
    after_upload: Callable[[Path], None] | None = None,
) -> ExportResult:
    """Write, send and stamp one manifest; see the module docstring.

    ``now`` fixes the file's time (tests); ``after_upload`` is called between the
    last upload and the stamp (tests simulate a crash there).
    """
    prepared = prepare(database_url)
    batch = settings.smartcrop_filewatcher_batchjob
    folder = batch.output_dir
    folder.mkdir(parents=True, exist_ok=True)
    # Not autocommit: everything below is one transaction, committed at the end of
    # the block and rolled back by any exception (or by the server, on a crash).
    with psycopg.connect(libpq_url(database_url)) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (EXPORT_LOCK_KEY,))
        conn.execute(_CREATE_BATCH)
        images = conn.execute(_CHOOSE_BATCH, {"max_rows": batch.max_rows}).rowcount
        if images <= 0:
            conn.rollback()
            return ExportResult("no_rows", completed_from_qa=prepared.completed_from_qa)
        conn.execute(_LOCK_BATCH)
        name = _free_name(conn, folder, now or datetime.now(UTC))
        path = folder / name
        rows = 0
        try:
            rows = write_rows(conn, path, settings.smartcrop_service.cdn)
            sent = targets.upload_manifest(settings, path, retry=retry)
        except TransferError as exc:
            conn.rollback()
            # Not a manifest anyone received (as a whole): do not leave it looking
            # like one. Its rows go out again in the next run's file.
            path.unlink(missing_ok=True)
            log.error("manifest %s not delivered, nothing stamped: %s", name, exc)
            return ExportResult(
                "failed",
                file=name,
                rows=rows,
                images=images,
                completed_from_qa=prepared.completed_from_qa,
                error=str(exc),
            )
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        if after_upload is not None:
            after_upload(path)
        stamped = conn.execute(_STAMP, {"file": name}).rowcount
        if stamped != images:
            raise ExportError(
                f"{name}: {stamped} of {images} image(s) could be stamped; nothing "
                "was stamped and the rows will be exported again"
            )
        conn.commit()
    log.info(
        "manifest %s: %d row(s) of %d image(s) sent to %s",
        name,
        rows,
        images,
        ", ".join(sent) or "the local folder only",
    )
    return ExportResult(
        "success",
        file=name,
        path=path,
        rows=rows,
        images=images,
        sent_to=tuple(sent),
        completed_from_qa=prepared.completed_from_qa,
    )
