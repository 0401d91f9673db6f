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

from smartcrop.manifests import (
    ManifestError,
    open_manifest,
    require_provider,
)
from smartcrop.manifests.rows import IMAGE_URL_AT, PROGRAM_ID_AT, REJECT_REASON_AT

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


# The usual case: the first accepted row of each pair becomes its work item, with the
# id it was given at landing, so no landed row has to be written again. A pair that
# is already a work item (or an id already used) is left to the repair below.
_INSERT_LINKED = """
INSERT INTO smartcrop_programimage (
  id, link_object_id, imageurl, providername, programtitle, episodetitle, season,
  episode, imagetypeid, imagetype, languageid, language, width, height, rights, notes,
  status, currentstate, uploadfileid)
SELECT programimageid, link_object_id, imageurl, providername, programtitle,
       episodetitle, season, episode, imagetypeid, imagetype, languageid, language,
       width, height, rights, notes, 1, 0, uploadfileid
FROM smartcrop_inputfiles
WHERE uploadfileid = %(file)s AND rejectreason IS NULL AND NOT isduplicate
  AND programimageid IS NOT NULL
ORDER BY rownumber
ON CONFLICT DO NOTHING
"""

# An accepted landed row ``i`` has its work item: its link names the item of its own
# (ProgramId, image URL) pair. The derivation below and the work-items check
# (unlinked_rows) both judge a row by this one condition.
_HAS_ITEM = """EXISTS (
  SELECT 1 FROM smartcrop_programimage p
  WHERE p.id = i.programimageid
    AND p.link_object_id = i.link_object_id AND p.imageurl = i.imageurl)"""

# The file's accepted rows: first_rows, those that should each have made a work item
# just now; duplicates; all of them; unlinked, those whose link does not name a work
# item of their own pair (one primary-key probe each, whatever the statistics say);
# and items, the work items this file made, in this run or an earlier one.
_STATE = f"""
SELECT count(*) FILTER (WHERE NOT i.isduplicate),
       count(*) FILTER (WHERE i.isduplicate),
       count(*),
       count(*) FILTER (WHERE NOT {_HAS_ITEM}),
       (SELECT count(*) FROM smartcrop_programimage WHERE uploadfileid = %(file)s)
FROM smartcrop_inputfiles i
WHERE i.uploadfileid = %(file)s AND i.rejectreason IS NULL
"""  # noqa: S608 - fixed SQL only; every value is a parameter

# The repair, when not every first row made its item: the pairs still missing become
# work items with new ids, then each accepted row is linked by the pair.
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
# 20,000 rows). Only rows whose link or flag changes are written: a re-run writes
# nothing, a file overlapping earlier ones only its overlapping rows.
_LINK = """
WITH firsts AS (
  SELECT link_object_id, imageurl, min(rownumber) AS first_row
  FROM smartcrop_inputfiles
  WHERE uploadfileid = %(file)s AND rejectreason IS NULL
  GROUP BY link_object_id, imageurl
)
UPDATE smartcrop_inputfiles i
SET programimageid = p.id,
    isduplicate = NOT (p.uploadfileid IS NOT DISTINCT FROM i.uploadfileid
                       AND i.rownumber = f.first_row)
FROM smartcrop_programimage p, firsts f
WHERE i.uploadfileid = %(file)s AND i.rejectreason IS NULL
  AND p.link_object_id = i.link_object_id AND p.imageurl = i.imageurl
  AND f.link_object_id = i.link_object_id AND f.imageurl = i.imageurl
  AND (i.programimageid IS DISTINCT FROM p.id
       OR i.isduplicate = (p.uploadfileid IS NOT DISTINCT FROM i.uploadfileid
                           AND i.rownumber = f.first_row))
"""


def derive_work_items(conn: psycopg.Connection, file: FileRecord) -> DerivationResult:
    """Create the file's new work items; counts are the same however often it runs."""
    params = {"file": file.id}
    with conn.transaction():
        # A file's rows are sorted (by row, and by pair when repairing); 4 MB, the
        # default, sends a 100,000-row file's sorts to disk.
        conn.execute("SET LOCAL work_mem = '64MB'")
        inserted = conn.execute(_INSERT_LINKED, params).rowcount
        first_rows, duplicates, accepted, unlinked, items = _state(conn, params)
        if inserted != first_rows or unlinked:
            # Some row is not linked as it landed (see the module's docstring): link
            # by the pair. The rows were COPYed moments ago: without fresh statistics
            # the planner takes the file for one row and joins it to itself in nested
            # loops, which is quadratic (20,000 rows took 120 s; with statistics,
            # under a second). The usual case above joins nothing, and needs none.
            conn.execute("ANALYZE smartcrop_inputfiles")
            conn.execute(_DERIVE, params)
            conn.execute(_LINK, params)
            _, duplicates, accepted, unlinked, items = _state(conn, params)
            if unlinked:
                # Cannot happen while the unique constraint holds; refuse to report
                # a file as ingested if a row was lost.
                raise RuntimeError(f"{unlinked} accepted rows have no work item")
        conn.execute(
            "UPDATE smartcrop_upload_files SET status = 'ingested', ingesteditems = %s,"
            " duplicates = %s, updatedat = now() WHERE id = %s",
            (items, duplicates, file.id),
        )
    return DerivationResult(items, duplicates, accepted)


def _state(conn: psycopg.Connection, params: dict[str, Any]) -> tuple[int, ...]:
    row = conn.execute(_STATE, params).fetchone()
    assert row is not None  # an aggregate always returns its row
    return tuple(row)


@dataclass(frozen=True)
class UnlinkedRow:
    """An accepted landed row without its work item."""

    partition_key: str
    filename: str
    row: int
    program_id: str | None
    image_url: str | None
    linked_to: int | None  # the item id the row names (gone, or another pair's)


@dataclass(frozen=True)
class LinkCheck:
    """Whether every accepted row of some files has its work item."""

    files: int
    accepted_rows: int
    unlinked_rows: int
    unlinked_by_file: dict[str, int]  # partition key -> its unlinked rows
    first_unlinked: list[UnlinkedRow]

    @property
    def passed(self) -> bool:
        return self.unlinked_rows == 0


# The files checked: the latest record of each given partition, as file_record reads
# it, or of every partition when none is given. Rows, not files, are judged: a
# rejected row has no work item by design, and a skipped or failed file has no rows.
_FILES_TO_CHECK = """
files AS (
  SELECT DISTINCT ON (partitionkey) id, partitionkey, filename
  FROM smartcrop_upload_files
  WHERE %(every)s OR partitionkey = ANY(%(keys)s)
  ORDER BY partitionkey, id DESC
)"""
_LINK_COUNTS = f"""
WITH {_FILES_TO_CHECK}
SELECT f.partitionkey, count(i.id), count(i.id) FILTER (WHERE NOT {_HAS_ITEM})
FROM files f
LEFT JOIN smartcrop_inputfiles i ON i.uploadfileid = f.id AND i.rejectreason IS NULL
GROUP BY f.id, f.partitionkey
"""  # noqa: S608 - fixed SQL only; every value is a parameter
_FIRST_UNLINKED = f"""
WITH {_FILES_TO_CHECK}
SELECT coalesce(f.partitionkey, ''), f.filename, i.rownumber, i.link_object_id,
       i.imageurl, i.programimageid
FROM files f
JOIN smartcrop_inputfiles i ON i.uploadfileid = f.id AND i.rejectreason IS NULL
WHERE NOT {_HAS_ITEM}
ORDER BY f.partitionkey, i.rownumber
LIMIT %(limit)s
"""  # noqa: S608 - fixed SQL only; every value is a parameter


def unlinked_rows(
    conn: psycopg.Connection,
    partition_keys: Sequence[str] | None,
    limit: int = 20,
) -> LinkCheck:
    """Accepted rows landed in ``smartcrop_inputfiles`` whose work item is not in
    ``smartcrop_programimage``, for the files of ``partition_keys`` (None: every file).

    A row is linked when its ``programimageid`` names the work item of its own
    (ProgramId, image URL) pair (the unique pair makes that item the only one). A
    file landed but not derived has no items yet, so its rows count as unlinked: they
    are work nobody will see until the partition is materialised again.
    """
    params = {
        "every": partition_keys is None,
        "keys": list(partition_keys or []),
        "limit": limit,
    }
    counts = conn.execute(_LINK_COUNTS, params).fetchall()
    unlinked_by_file = {key or "": unlinked for key, _, unlinked in counts if unlinked}
    first: list[UnlinkedRow] = []
    if unlinked_by_file:
        first = [UnlinkedRow(*row) for row in conn.execute(_FIRST_UNLINKED, params)]
    return LinkCheck(
        files=len(counts),
        accepted_rows=sum(accepted for _, accepted, _ in counts),
        unlinked_rows=sum(unlinked_by_file.values()),
        unlinked_by_file=unlinked_by_file,
        first_unlinked=first,
    )


def rejected_rows(
    conn: psycopg.Connection, file_id: int, limit: int = 20
) -> list[tuple[int, str]]:
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
    "LinkCheck",
    "ManifestError",
    "derive_work_items",
    "file_checksum",
    "file_record",
    "land_rows",
    "mark_failed",
    "record_file",
    "rejected_rows",
    "unlinked_rows",
]
