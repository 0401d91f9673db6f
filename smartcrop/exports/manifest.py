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

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import psycopg
from psycopg.abc import Buffer
from sqlalchemy import text
from sqlalchemy.orm import Session

from smartcrop import lookups
from smartcrop.db import libpq_url, session_scope
from smartcrop.exports import neutralise, targets
from smartcrop.settings import CdnConfig, Settings
from smartcrop.transfer import TransferError
from smartcrop.transfer.retry import DEFAULT_RETRY, RetryPolicy
from smartcrop.workflow import states

log = logging.getLogger(__name__)

PREFIX = "SmartCrop_Manifest"
# The header; _COPY_ROWS names its columns the same.
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


# Whether step 1 has anything to do: images waiting in QA while QA is disabled
# (complete_qa_queue), or rows to export with a lookup id missing
# (resolve_missing_lookups). Most nights there are none, and then no ORM engine is
# started for nothing: in a fresh process that costs more than this query.
_PREPARE_NEEDED = """
SELECT coalesce((SELECT qcdisabled FROM smartcrop_settings WHERE id = 1), false)
       AND EXISTS (SELECT 1 FROM smartcrop_programimage
                   WHERE status = 2 AND currentstate = 0)
    OR EXISTS (SELECT 1 FROM smartcrop_programimage
               WHERE status = 3 AND outputfilename IS NULL
                 AND (imagetypeid IS NULL AND imagetype IS NOT NULL
                      OR languageid IS NULL AND language IS NOT NULL))
"""


def prepare(database_url: str) -> Prepared:
    """Step 1, committed on its own: these changes stand whatever the export does."""
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        needed = conn.execute(_PREPARE_NEEDED).fetchone()
    if needed is None or not needed[0]:
        return Prepared(0, {"image_types": 0, "languages": 0})
    # complete_qa_queue looks again, under its lock on the QA toggle.
    with session_scope(database_url) as session:
        completed = complete_qa_queue(session)
        resolved = resolve_missing_lookups(session)
    if completed:
        log.info("QA disabled: completed %d image(s) waiting in QA", completed)
    return Prepared(completed, resolved)


def pending(database_url: str) -> tuple[int, int]:
    """(images, renditions) completed and not yet in a manifest."""
    with psycopg.connect(libpq_url(database_url)) as conn:
        # Per queued image through its renditions' index (LATERAL): the planner
        # guesses status x outputfilename badly (140,000 rows for 1,000 at 3M work
        # items) and a plain join hash-joined a scan of every rendition (2.8 s).
        row = conn.execute(
            "SELECT count(*), coalesce(sum(r.n), 0)"
            " FROM smartcrop_programimage p"
            " CROSS JOIN LATERAL (SELECT count(*) AS n"
            "   FROM smartcrop_aspectratioimages a WHERE a.programimageid = p.id) r"
            " WHERE p.status = 3 AND p.outputfilename IS NULL AND r.n > 0"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


@dataclass(frozen=True)
class Unexportable:
    """Completed images the manifest leaves out for ever: they have no rendition."""

    images: int
    first: list[tuple[int, str, str]]  # (image id, ProgramId, provider)

    @property
    def none(self) -> bool:
        return self.images == 0


# The manifest's queue (status 3, not stamped) without a rendition: _CHOOSE_BATCH
# skips these, so they stay Completed and unexported unless someone crops them again.
# The count is taken before the LIMIT (a window over the whole result).
_WITHOUT_RENDITIONS = """
SELECT count(*) OVER (), p.id, p.link_object_id, p.providername
FROM smartcrop_programimage p
WHERE p.status = 3 AND p.outputfilename IS NULL
  AND NOT EXISTS (SELECT 1 FROM smartcrop_aspectratioimages a
                  WHERE a.programimageid = p.id)
ORDER BY p.link_object_id COLLATE "C", p.id
LIMIT %(limit)s
"""


def completed_without_renditions(database_url: str, limit: int = 20) -> Unexportable:
    """The completed, unexported images that have no rendition: how many, and the
    first ``limit`` in manifest order."""
    with psycopg.connect(libpq_url(database_url)) as conn:
        rows = conn.execute(_WITHOUT_RENDITIONS, {"limit": limit}).fetchall()
    return Unexportable(
        images=int(rows[0][0]) if rows else 0,
        first=[(int(image), program, provider) for _, image, program, provider in rows],
    )


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

# The CDN rewrite of smartcrop.renditions.cdn.rewrite_url, done by the server so that
# no row is decoded into Python. ``{url}`` is a column (fixed text, chosen below); the
# configuration comes in as parameters (see _cdn_params). A URL is rewritten only when
# it starts with the origin followed by the end, '/', '?' or '#' (or the origin ends
# with '/'), so ``https://a.example`` never rewrites ``https://a.example.evil.net/x``.
# left()/length()/substr() count characters, as Python's slicing does, and "=" in
# the "C" collation compares bytes, as str.startswith compares characters.
_CDN_REWRITE = """CASE
    WHEN %(cdn_on)s
     AND left({url}, %(origin_len)s) = %(origin)s COLLATE "C"
     AND (%(origin_slash)s OR length({url}) = %(origin_len)s
          OR substr({url}, %(origin_len)s + 1, 1) IN ('/', '?', '#'))
    THEN %(rewrite)s || %(seam)s || substr(
        {url},
        %(origin_len)s + 1
        + CASE WHEN %(drop_slash)s AND substr({url}, %(origin_len)s + 1, 1) = '/'
               THEN 1 ELSE 0 END)
    ELSE {url}
END"""
_RENDITION_URL = _CDN_REWRITE.format(url="a.imageurl::text")
_SOURCE_URL = _CDN_REWRITE.format(url="p.imageurl::text")

# The manifest as PostgreSQL writes it: every field is formatted here and the bytes
# go to the file as they come (write_rows only turns the row ends into CRLF).
#
# They must be the bytes csv.writer (dialect "excel") wrote from these columns before.
# Both quote a field exactly when it holds ',', '"', CR or LF, and double its quotes;
# they differ on one point: COPY writes an empty string as "" to tell it from NULL (an
# empty field), where csv.writer wrote both as an empty field. So every text column
# goes through nullif(..., ''). Numbers print as Python's str(int) did. CompletedAt is
# what astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") gave: UTC, seconds truncated,
# and FM because glibc's %Y does not zero-pad a year below 1000. The header is COPY's,
# from the column names (none needs quoting). ENCODING: UTF-8 whatever the client
# encoding, as the file was written.
#
# Order: ProgramId, ImageId, AspectRatio, compared as the CSV shows them (byte order
# for text, numeric for ImageId), whatever the database's collation.
#
# The images are formatted and sorted on their own, once per image rather than once
# per rendition, and the ORDER BY keeps that subquery apart (not merged into the
# outer query). PostgreSQL knows its output order, so it only has to sort each
# image's few renditions (an incremental sort) and starts streaming at once, instead
# of sorting every rendition before the first row goes out.
# Text that people and providers wrote (titles, ids, names) may hold a formula for
# whoever opens the CSV in a spreadsheet: neutralised (smartcrop.exports.neutralise).
# URLs and the ratio title are ours or validated as http(s), so they are left alone.
_safe = neutralise.neutralised

_COPY_ROWS = f"""
COPY (
    SELECT {_safe("i.program_id")} AS "ProgramId",
           {_safe("i.provider_name")} AS "ProviderName",
           {_safe("i.program_title")} AS "ProgramTitle", i.id::bigint AS "ImageId",
           {_safe("i.image_type")} AS "ImageType",
           {_safe("i.language")} AS "Language",
           nullif(ar.title::text, '') AS "AspectRatio",
           a.cropx::integer AS "CropX", a.cropy::integer AS "CropY",
           a.cropwidth::integer AS "CropWidth", a.cropheight::integer AS "CropHeight",
           nullif({_RENDITION_URL}, '') AS "RenditionUrl",
           i.source_url AS "SourceImageUrl",
           {_safe("i.completed_by")} AS "CompletedBy",
           i.completed_at AS "CompletedAt"
    FROM (
        SELECT p.id, p.link_object_id,
               nullif(p.link_object_id::text, '') AS program_id,
               nullif(p.providername::text, '') AS provider_name,
               nullif(p.programtitle::text, '') AS program_title,
               nullif(coalesce(t.title, p.imagetype)::text, '') AS image_type,
               nullif(coalesce(l.title, p.language)::text, '') AS language,
               nullif({_SOURCE_URL}, '') AS source_url,
               nullif(u.username::text, '') AS completed_by,
               to_char(p.completedat::timestamptz AT TIME ZONE 'UTC',
                       'FMYYYY-MM-DD"T"HH24:MI:SS"Z"') AS completed_at
        FROM smartcrop_manifest_batch b
        JOIN smartcrop_programimage p ON p.id = b.id
        LEFT JOIN smartcrop_imagetype_lookup t ON t.id = p.imagetypeid
        LEFT JOIN smartcrop_imagelanguage_lookup l ON l.id = p.languageid
        LEFT JOIN smartcrop_user u ON u.id = p.completedby
        ORDER BY p.link_object_id COLLATE "C", p.id
    ) i
    JOIN smartcrop_aspectratioimages a ON a.programimageid = i.id
    JOIN smartcrop_aspectratio_lookup ar ON ar.id = a.aspectratioid
    ORDER BY i.link_object_id COLLATE "C", i.id, ar.title COLLATE "C"
) TO STDOUT (FORMAT CSV, HEADER, ENCODING 'UTF8')
"""  # noqa: S608 - only the fixed SQL above is put in; every value is a parameter

# Guarded again by "still unstamped": a row can never be stamped a second time.
# The batch's ids as an array: each row is found by its primary key, whatever the
# planner guesses of status x outputfilename (a join merged along the whole primary
# key instead: 0.7 s for 1,000 rows at 3M work items).
_STAMP = """
UPDATE smartcrop_programimage p
SET outputfilename = %(file)s, exportedat = now(), updatedat = now()
WHERE p.id = ANY(ARRAY(SELECT id FROM smartcrop_manifest_batch))
  AND p.status = 3 AND p.outputfilename IS NULL
"""


class ExportError(RuntimeError):
    """The export found the database in a state it must not stamp over."""


def _cdn_params(cdn: CdnConfig) -> dict[str, Any]:
    """The parameters of _CDN_REWRITE: rewrite_url's decisions that depend on the
    configuration only, taken once here."""
    origin, rewrite = cdn.origin_base_url, cdn.rewrite_base_url
    return {
        "cdn_on": bool(origin),
        "origin": origin,
        "origin_len": len(origin),
        "origin_slash": origin.endswith("/"),
        "rewrite": rewrite,
        # Exactly one '/' at the seam, whichever side of it the config wrote one on.
        "drop_slash": rewrite.endswith("/"),
        "seam": (
            "/"
            if origin.endswith("/") and rewrite and not rewrite.endswith("/")
            else ""
        ),
    }


class CrlfRowEnds:
    """Turns the LF that ends each row of COPY's CSV into CRLF, chunk by chunk.

    csv.writer ended rows with CRLF; COPY TO STDOUT ends them with LF. A LF inside a
    field is data and stays as it is (csv.writer wrote it unchanged too), and COPY
    quotes every field that holds one, so a row end is a LF outside quotes. Whether a
    byte is inside quotes depends only on the parity of the '"' before it (a doubled
    quote flips the state twice), so one bit carried from chunk to chunk is enough,
    wherever the chunks split the rows or a doubled quote. In UTF-8 the bytes '"' and
    LF never occur inside a multi-byte character.
    """

    def __init__(self) -> None:
        self.quoted = False

    def __call__(self, chunk: bytes) -> bytes:
        parts = chunk.split(b'"')
        # parts[i] lies outside quotes when i has the parity the chunk started with.
        for i in range(1 if self.quoted else 0, len(parts), 2):
            parts[i] = parts[i].replace(b"\n", b"\r\n")
        if len(parts) % 2 == 0:  # an odd number of quotes
            self.quoted = not self.quoted
        return b'"'.join(parts)


# COPY hands over one row per chunk: the rows are converted and written in blocks of
# about this many bytes, which leaves an append as the only Python work per row.
_BLOCK = 1 << 16


def write_rows(conn: psycopg.Connection, path: Path, cdn: CdnConfig) -> int:
    """Stream the batch into ``path`` (via ``<path>.part``); return the data rows.

    PostgreSQL formats the CSV (see _COPY_ROWS) and its bytes go to the file as they
    arrive, with CRLF row ends (RFC 4180): memory stays flat whatever the size of the
    batch, and no row is decoded into Python objects.
    """
    part = path.with_name(path.name + ".part")
    crlf = CrlfRowEnds()
    block: list[Buffer] = []
    size = 0
    try:
        with part.open("wb") as out, conn.cursor() as cur:
            with cur.copy(_COPY_ROWS, _cdn_params(cdn)) as copy:
                for chunk in copy:
                    block.append(chunk)
                    size += len(chunk)
                    if size >= _BLOCK:
                        out.write(crlf(b"".join(block)))
                        block.clear()
                        size = 0
                out.write(crlf(b"".join(block)))
            # COPY's command tag, read when the copy ends: the data rows it sent.
            rows = cur.rowcount
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
