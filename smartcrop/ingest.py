"""Landing a manifest's rows and deriving work items from them (contract section 5).

Three steps, each its own Dagster asset and each safe to run again:

1. ``record_file``: the file's identity (name, source, size, mtime, checksum) goes into
   ``smartcrop_upload_files``; content already ingested under any name is skipped.
2. ``land_rows``: every parsed row, rejected ones with their reason, is copied into
   ``smartcrop_inputfiles`` with one binary COPY in one transaction. A file that cannot
   be read lands nothing and is recorded as failed.
3. ``derive_work_items``: accepted rows become ``smartcrop_programimage`` rows at (1,0).
   The (ProgramId, image URL) dedupe, within and across files, is the database's unique
   constraint with ``ON CONFLICT DO NOTHING``: concurrent ingestions cannot race it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg

from smartcrop.manifests import (
    ManifestError,
    ParsedRow,
    open_manifest,
    require_provider,
)

log = logging.getLogger(__name__)

SOURCES = ("local", "s3", "sftp", "api", "cli")

_INPUT_COLUMNS = (
    "uploadfileid",
    "rownumber",
    "providername",
    "link_object_id",
    "programtitle",
    "episodetitle",
    "season",
    "episode",
    "imageurl",
    "imagetype",
    "imagetypeid",
    "language",
    "languageid",
    "width",
    "height",
    "rights",
    "notes",
    "sourceref",
    "rejectreason",
)
_INPUT_TYPES = (
    "int8",
    "int4",
    "varchar",
    "varchar",
    "text",
    "text",
    "varchar",
    "varchar",
    "text",
    "text",
    "int2",
    "text",
    "int2",
    "int4",
    "int4",
    "text",
    "text",
    "text",
    "text",
)


@dataclass(frozen=True)
class FileRecord:
    """What ``smartcrop_upload_files`` holds about one file."""

    id: int
    filename: str
    status: str
    checksum: str
    duplicate_of: str | None = None  # the partition that already ingested this content
    source: str = ""
    source_path: str = ""


@dataclass(frozen=True)
class LandingResult:
    provider: str
    total_rows: int
    rejected_rows: int
    reasons: dict[str, int]


@dataclass(frozen=True)
class DerivationResult:
    ingested_items: int
    duplicates: int
    accepted_rows: int


def file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def record_file(
    conn: psycopg.Connection,
    *,
    partition_key: str,
    path: Path,
    filename: str,
    source: str,
    source_path: str,
    source_modified: datetime | None,
) -> FileRecord:
    """Record the file for this partition; a second copy of known content is skipped.

    Re-running for the same partition returns the existing record (a failed file that
    is re-run goes back to pending so it can be tried again).
    """
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    checksum = file_checksum(path)
    size = path.stat().st_size
    with conn.transaction():
        # One writer per checksum at a time, so two sources delivering the same file
        # at the same moment cannot both decide that it is new.
        conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (checksum,)
        )
        mine = conn.execute(
            "SELECT id, status FROM smartcrop_upload_files"
            " WHERE partitionkey = %s AND checksum = %s ORDER BY id DESC LIMIT 1",
            (partition_key, checksum),
        ).fetchone()
        if mine is not None and mine[1] in ("pending", "ingesting", "ingested"):
            return FileRecord(mine[0], filename, mine[1], checksum)
        other = conn.execute(
            "SELECT partitionkey, filename FROM smartcrop_upload_files"
            " WHERE checksum = %s AND status IN ('pending', 'ingesting', 'ingested')"
            " AND partitionkey IS DISTINCT FROM %s LIMIT 1",
            (checksum, partition_key),
        ).fetchone()
        status, error, duplicate_of = "pending", None, None
        if other is not None:
            status, duplicate_of = "skipped", other[0]
            error = f"same content as {other[1]} (partition {other[0]})"
        if mine is not None:
            # A failed or skipped file run again is judged again.
            conn.execute(
                "UPDATE smartcrop_upload_files SET status = %s, error = %s,"
                " updatedat = now() WHERE id = %s",
                (status, error, mine[0]),
            )
            return FileRecord(mine[0], filename, status, checksum, duplicate_of)
        row = conn.execute(
            "INSERT INTO smartcrop_upload_files (filename, source, sourcepath,"
            " filesize, sourcemodifiedat, checksum, partitionkey, status, error)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (
                filename,
                source,
                source_path,
                size,
                source_modified,
                checksum,
                partition_key,
                status,
                error,
            ),
        ).fetchone()
    assert row is not None
    return FileRecord(row[0], filename, status, checksum, duplicate_of)


def file_record(conn: psycopg.Connection, partition_key: str) -> FileRecord | None:
    row = conn.execute(
        "SELECT id, filename, status, checksum, source, sourcepath"
        " FROM smartcrop_upload_files"
        " WHERE partitionkey = %s ORDER BY id DESC LIMIT 1",
        (partition_key,),
    ).fetchone()
    if row is None:
        return None
    file_id, filename, status, checksum, source, source_path = row
    return FileRecord(
        file_id, filename, status, checksum, source=source, source_path=source_path
    )


def mark_failed(conn: psycopg.Connection, file_id: int, reason: str) -> None:
    with conn.transaction():
        conn.execute(
            "UPDATE smartcrop_upload_files SET status = 'failed', error = %s,"
            " updatedat = now() WHERE id = %s",
            (reason, file_id),
        )


def _row_tuple(file_id: int, row: ParsedRow) -> tuple:
    return (
        file_id,
        row.row_number,
        row.provider_name,
        row.program_id,
        row.program_title,
        row.episode_title,
        row.season,
        row.episode,
        row.image_url,
        row.image_type,
        row.image_type_id,
        row.language,
        row.language_id,
        row.width,
        row.height,
        row.rights,
        row.notes,
        row.source_ref,
        row.reject_reason,
    )


def _copy_rows(
    conn: psycopg.Connection, file_id: int, rows: Iterable[ParsedRow]
) -> tuple[int, dict[str, int]]:
    total = 0
    reasons: dict[str, int] = {}
    columns = ", ".join(_INPUT_COLUMNS)
    with (
        conn.cursor() as cursor,
        cursor.copy(
            f"COPY smartcrop_inputfiles ({columns}) FROM STDIN (FORMAT BINARY)"  # noqa: S608 - fixed column list
        ) as copy,
    ):
        copy.set_types(_INPUT_TYPES)
        for row in rows:
            copy.write_row(_row_tuple(file_id, row))
            total += 1
            if row.reject_reason is not None:
                reasons[row.reject_reason] = reasons.get(row.reject_reason, 0) + 1
    return total, reasons


def land_rows(
    conn: psycopg.Connection,
    file: FileRecord,
    path: Path,
    provider_file_type: dict[str, dict[str, str]],
) -> LandingResult:
    """Parse the file and land every row, or land nothing and raise ManifestError.

    Landing again replaces the file's rows, so a re-run never duplicates them.
    """
    match = require_provider(file.filename, provider_file_type)
    manifest = open_manifest(path, match)
    with conn.transaction():
        # Rows of an earlier, interrupted landing are replaced, not added to. The
        # work items already derived from them are kept (they may be claimed).
        conn.execute(
            "DELETE FROM smartcrop_inputfiles WHERE uploadfileid = %s", (file.id,)
        )
        total, reasons = _copy_rows(conn, file.id, manifest.rows())
        conn.execute(
            "UPDATE smartcrop_upload_files SET status = 'ingesting', providername = %s,"
            " totalrows = %s, rejectedrows = %s, error = NULL, updatedat = now()"
            " WHERE id = %s",
            (match.provider, total, sum(reasons.values()), file.id),
        )
    return LandingResult(match.provider, total, sum(reasons.values()), reasons)


_DERIVE = """
WITH firsts AS (
  SELECT DISTINCT ON (link_object_id, imageurl)
         link_object_id, imageurl, providername, programtitle, episodetitle, season,
         episode, imagetypeid, imagetype, languageid, language, width, height, rights,
         notes, rownumber
  FROM smartcrop_inputfiles
  WHERE uploadfileid = %(file)s AND rejectreason IS NULL
  ORDER BY link_object_id, imageurl, rownumber
)
INSERT INTO smartcrop_programimage (
  link_object_id, imageurl, providername, programtitle, episodetitle, season, episode,
  imagetypeid, imagetype, languageid, language, width, height, rights, notes,
  status, currentstate, uploadfileid)
SELECT link_object_id, imageurl, providername, programtitle, episodetitle, season,
       episode, imagetypeid, imagetype, languageid, language, width, height, rights,
       notes, 1, 0, %(file)s
FROM firsts
ORDER BY rownumber
ON CONFLICT (link_object_id, imageurl) DO NOTHING
"""

# Each accepted row points at its work item; it is a duplicate unless it is the row
# that created that item (the first of its key in the file that added it). The first
# rows are found once per key (a correlated subquery per row was quadratic: 120 s for
# 20,000 rows).
_LINK = """
WITH firsts AS (
  SELECT link_object_id, imageurl, min(rownumber) AS first_row
  FROM smartcrop_inputfiles
  WHERE uploadfileid = %(file)s AND rejectreason IS NULL
  GROUP BY link_object_id, imageurl
)
UPDATE smartcrop_inputfiles i
SET programimageid = p.id,
    isduplicate = NOT (p.uploadfileid = i.uploadfileid AND i.rownumber = f.first_row)
FROM smartcrop_programimage p, firsts f
WHERE i.uploadfileid = %(file)s AND i.rejectreason IS NULL
  AND p.link_object_id = i.link_object_id AND p.imageurl = i.imageurl
  AND f.link_object_id = i.link_object_id AND f.imageurl = i.imageurl
"""

_COUNTS = """
SELECT
  (SELECT count(*) FROM smartcrop_programimage WHERE uploadfileid = %(file)s),
  (SELECT count(*) FROM smartcrop_inputfiles
     WHERE uploadfileid = %(file)s AND rejectreason IS NULL AND isduplicate),
  (SELECT count(*) FROM smartcrop_inputfiles
     WHERE uploadfileid = %(file)s AND rejectreason IS NULL),
  (SELECT count(*) FROM smartcrop_inputfiles
     WHERE uploadfileid = %(file)s AND rejectreason IS NULL AND programimageid IS NULL)
"""


def derive_work_items(conn: psycopg.Connection, file: FileRecord) -> DerivationResult:
    """Create the file's new work items; counts are the same however often it runs."""
    with conn.transaction():
        # The rows were just COPYed: without fresh statistics the planner takes the
        # file for one row and joins it to itself in nested loops, which is quadratic
        # (20,000 rows took 120 s; with statistics, under a second).
        conn.execute("ANALYZE smartcrop_inputfiles")
        conn.execute(_DERIVE, {"file": file.id})
        conn.execute(_LINK, {"file": file.id})
        items, duplicates, accepted, unlinked = conn.execute(
            _COUNTS, {"file": file.id}
        ).fetchone()
        if unlinked:
            # Cannot happen while the unique constraint holds; refuse to report a
            # file as ingested if a row was lost.
            raise RuntimeError(f"{unlinked} accepted rows have no work item")
        conn.execute(
            "UPDATE smartcrop_upload_files SET status = 'ingested', ingesteditems = %s,"
            " duplicates = %s, updatedat = now() WHERE id = %s",
            (items, duplicates, file.id),
        )
    return DerivationResult(items, duplicates, accepted)


def rejected_rows(
    conn: psycopg.Connection, file_id: int, limit: int = 20
) -> list[tuple]:
    """The first rejected rows of a file: (row number, reason), for people to fix."""
    return conn.execute(
        "SELECT rownumber, rejectreason FROM smartcrop_inputfiles"
        " WHERE uploadfileid = %s AND rejectreason IS NOT NULL"
        " ORDER BY rownumber LIMIT %s",
        (file_id, limit),
    ).fetchall()


__all__ = [
    "DerivationResult",
    "FileRecord",
    "LandingResult",
    "ManifestError",
    "derive_work_items",
    "file_checksum",
    "file_record",
    "land_rows",
    "mark_failed",
    "record_file",
    "rejected_rows",
]
