"""Work items from landed rows, and the check that every accepted row has its item.

``derive_work_items`` turns a file's accepted rows into ``smartcrop_programimage`` rows
(see ``landing`` for how rows are linked at landing and when the slower repair runs);
``unlinked_rows`` is the asset check's question; ``rejected_rows`` lists a file's
refused rows with their reasons.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from smartcrop.ingestion.landing import FileRecord
from smartcrop.workflow.states import FREE, OPERATOR_QUEUE


@dataclass(frozen=True)
class DerivationResult:
    ingested_items: int
    duplicates: int
    accepted_rows: int


# The usual case: the first accepted row of each pair becomes its work item, with the
# id it was given at landing, so no landed row has to be written again. A pair that
# is already a work item (or an id already used) is left to the repair below.
_INSERT_LINKED = f"""
INSERT INTO smartcrop_programimage (
  id, link_object_id, imageurl, providername, programtitle, episodetitle, season,
  episode, imagetypeid, imagetype, languageid, language, width, height, rights, notes,
  status, currentstate, uploadfileid)
SELECT programimageid, link_object_id, imageurl, providername, programtitle,
       episodetitle, season, episode, imagetypeid, imagetype, languageid, language,
       width, height, rights, notes, {OPERATOR_QUEUE}, {FREE}, uploadfileid
FROM smartcrop_inputfiles
WHERE uploadfileid = %(file)s AND rejectreason IS NULL AND NOT isduplicate
  AND programimageid IS NOT NULL
ORDER BY rownumber
ON CONFLICT DO NOTHING
"""  # noqa: S608 - a new item's state constants only; values are parameters

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
_DERIVE = f"""
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
       notes, {OPERATOR_QUEUE}, {FREE}, %(file)s
FROM firsts
ORDER BY rownumber
ON CONFLICT (link_object_id, imageurl) DO NOTHING
"""  # noqa: S608 - a new item's state constants only; values are parameters

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
