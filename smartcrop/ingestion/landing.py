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

Each landed row is written once, already linked: ``land_rows`` reserves ids from the
work-item sequence and gives every accepted row the id of the first row of its
(ProgramId, image URL) in the file (``programimageid``) and flags the others as
duplicates (``isduplicate``); ``derive_work_items`` then creates the items with those
ids. Where that cannot hold (the pair was already a work item, another file took it
first, a re-run, rows landed before links were set at landing) the derivation links
the rows the slower way, by joining on the pair, and rewrites only the rows whose link
or flag is wrong. Until the derivation has run, a landed row's link names an item that
does not exist yet: a file's rows are linked once its status is ``ingested``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

from smartcrop.ingestion.manifests import (
    open_manifest,
    require_provider,
)
from smartcrop.ingestion.manifests.rows import (
    IMAGE_URL_AT,
    PROGRAM_ID_AT,
    REJECT_REASON_AT,
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
    "programimageid",
    "isduplicate",
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
    "int8",
    "bool",
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


def outcome(status: str, **fields: Any) -> dict[str, Any]:
    """One file's line in an ingestion summary (``smartcrop ingest``, run-local)."""
    return {
        "status": status,
        "provider": fields.get("provider"),
        "ingested_items": fields.get("ingested_items", 0),
        "rejected_rows": fields.get("rejected_rows", 0),
        "duplicates": fields.get("duplicates", 0),
        "error": fields.get("error"),
    }


def file_outcome(
    conn: psycopg.Connection, partition_key: str, run_succeeded: bool
) -> dict[str, Any]:
    """What became of the file of a partition, once its run has finished: as
    recorded in ``smartcrop_upload_files``, failed when the run failed."""
    row = conn.execute(
        "SELECT status, providername, coalesce(ingesteditems, 0),"
        " coalesce(rejectedrows, 0), coalesce(duplicates, 0), error"
        " FROM smartcrop_upload_files WHERE partitionkey = %s ORDER BY id DESC LIMIT 1",
        (partition_key,),
    ).fetchone()
    if row is None:
        return outcome("failed", error="the run failed before the file was recorded")
    status, provider, items, rejected, duplicates, error = row
    if status == "skipped":
        items = rejected = duplicates = 0
    elif not run_succeeded and status != "failed":
        status, error = (
            "failed",
            error or "the ingestion run failed; see the Dagster UI",
        )
    return outcome(
        status,
        provider=provider,
        ingested_items=items,
        rejected_rows=rejected,
        duplicates=duplicates,
        error=error,
    )


def mark_failed(conn: psycopg.Connection, file_id: int, reason: str) -> None:
    with conn.transaction():
        conn.execute(
            "UPDATE smartcrop_upload_files SET status = 'failed', error = %s,"
            " updatedat = now() WHERE id = %s",
            (reason, file_id),
        )


# Ids for the file's new work items, taken from the items' own sequence so that no
# other writer can be given them; ids a file does not use are gaps, as the ids of
# rows that lose an ON CONFLICT are. Taken in one statement they are nearly always
# consecutive, so only the bounds travel; the ids themselves only when another session
# took some in between.
_RESERVE_ITEM_IDS = """
WITH ids AS MATERIALIZED (
  SELECT nextval(s.seq) AS id
  FROM (SELECT pg_get_serial_sequence('smartcrop_programimage', 'id')::regclass
          AS seq) s,
       generate_series(1, %(n)s)
), bounds AS (SELECT min(id) AS low, max(id) AS high, count(*) AS n FROM ids)
SELECT low, high,
       -- The list is only built when it is needed (the CASE runs the sub-select).
       CASE WHEN high - low + 1 <> n THEN (SELECT array_agg(id ORDER BY id) FROM ids)
       END
FROM bounds
"""


def _reserve_item_ids(conn: psycopg.Connection, count: int) -> Sequence[int]:
    """``count`` new work-item ids, ascending (a file's items are numbered in its row
    order)."""
    if count <= 0:
        return ()
    row = conn.execute(_RESERVE_ITEM_IDS, {"n": count}).fetchone()
    assert row is not None  # an aggregate always returns its row
    low, high, scattered = row
    return range(low, high + 1) if scattered is None else scattered


def _copy_rows(
    conn: psycopg.Connection,
    file_id: int,
    rows: Iterable[Sequence[Any]],
    item_ids: Iterable[int] = (),
) -> tuple[int, dict[str, int]]:
    """COPY ``rows`` (ParsedRow's values in field order, as ``Manifest.records()``
    yields them) as the file's rows, each accepted one linked to its work item.

    The first accepted row of each (ProgramId, image URL) takes the next of
    ``item_ids`` and later rows of the pair its id, flagged as duplicates. Should the
    ids run out, rows are landed unlinked and ``derive_work_items`` links them.
    """
    total = 0
    reasons: dict[str, int] = {}
    items: dict[tuple[str, str], int] = {}
    next_id = iter(item_ids).__next__
    columns = ", ".join(_INPUT_COLUMNS)
    with (
        conn.cursor() as cursor,
        cursor.copy(
            f"COPY smartcrop_inputfiles ({columns}) FROM STDIN (FORMAT BINARY)"  # noqa: S608 - fixed column list
        ) as copy,
    ):
        copy.set_types(_INPUT_TYPES)
        write_row = copy.write_row
        for values in rows:
            total += 1
            reason = values[REJECT_REASON_AT]
            if reason is not None:
                reasons[reason] = reasons.get(reason, 0) + 1
                write_row((file_id, *values, None, False))
                continue
            key = (values[PROGRAM_ID_AT], values[IMAGE_URL_AT])
            item = items.get(key)
            if item is not None:
                write_row((file_id, *values, item, True))
                continue
            try:
                item = items[key] = next_id()
            except StopIteration:
                item = None
            write_row((file_id, *values, item, False))
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
        item_ids = _reserve_item_ids(conn, manifest.max_rows)
        total, reasons = _copy_rows(conn, file.id, manifest.records(), item_ids)
        conn.execute(
            "UPDATE smartcrop_upload_files SET status = 'ingesting', providername = %s,"
            " totalrows = %s, rejectedrows = %s, error = NULL, updatedat = now()"
            " WHERE id = %s",
            (match.provider, total, sum(reasons.values()), file.id),
        )
    return LandingResult(match.provider, total, sum(reasons.values()), reasons)
