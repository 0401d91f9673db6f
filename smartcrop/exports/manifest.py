"""The nightly manifest (contract section 6): completed renditions not yet shipped,
as one CSV, sent to every configured target, then stamped.

This module is the export transaction; step 1 and the queue's counts are in
``manifest_queue``, the CSV's bytes in ``manifest_csv``.

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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import psycopg
from sqlalchemy import Engine

from smartcrop.db import bulk_connection
from smartcrop.exports import targets
from smartcrop.exports.manifest_csv import write_rows
from smartcrop.exports.manifest_queue import (
    Prepared,
    Unexportable,
    completed_without_renditions,
    pending,
    prepare,
)
from smartcrop.settings import Settings
from smartcrop.transfer import TransferError
from smartcrop.transfer.retry import DEFAULT_RETRY, RetryPolicy
from smartcrop.workflow.states import COMPLETED

# Step 1 and the queue's counts are the export's too: callers find them here.
__all__ = [
    "EXPORT_LOCK_KEY",
    "PREFIX",
    "ExportError",
    "ExportResult",
    "Prepared",
    "Unexportable",
    "completed_without_renditions",
    "export_manifest",
    "manifest_name",
    "pending",
    "prepare",
]

log = logging.getLogger(__name__)

PREFIX = "SmartCrop_Manifest"
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


def manifest_name(when: datetime) -> str:
    """``SmartCrop_Manifest_YYYYMMDD_HHMMSS.csv`` in UTC."""
    return f"{PREFIX}_{when.astimezone(UTC):%Y%m%d_%H%M%S}.csv"


_CREATE_BATCH = (
    "CREATE TEMPORARY TABLE smartcrop_manifest_batch"
    " (id bigint PRIMARY KEY, renditions bigint NOT NULL) ON COMMIT DROP"
)

# Whole images in manifest order while their renditions fit in max_rows (NULL: all).
# The first image always goes, even when alone it is larger than max_rows: otherwise
# it would block the queue for ever. Images without renditions have no rows to send
# and are left alone.
_CHOOSE_BATCH = f"""
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
    WHERE p.status = {COMPLETED} AND p.outputfilename IS NULL AND r.renditions > 0
    WINDOW w AS (ORDER BY p.link_object_id COLLATE "C", p.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
) chosen
WHERE CAST(%(max_rows)s AS bigint) IS NULL
   OR chosen.running <= CAST(%(max_rows)s AS bigint)
   OR chosen.position = 1
"""  # noqa: S608 - only the state constants are put in

# Held until commit or rollback: the workflow cannot touch a row being exported.
_LOCK_BATCH = (
    "SELECT p.id FROM smartcrop_programimage p"
    " JOIN smartcrop_manifest_batch b ON b.id = p.id ORDER BY p.id FOR UPDATE OF p"
)

# Guarded again by "still unstamped": a row can never be stamped a second time.
# The batch's ids as an array: each row is found by its primary key, whatever the
# planner guesses of status x outputfilename (a join merged along the whole primary
# key instead: 0.7 s for 1,000 rows at 3M work items).
_STAMP = f"""
UPDATE smartcrop_programimage p
SET outputfilename = %(file)s, exportedat = now(), updatedat = now()
WHERE p.id = ANY(ARRAY(SELECT id FROM smartcrop_manifest_batch))
  AND p.status = {COMPLETED} AND p.outputfilename IS NULL
"""  # noqa: S608 - only the state constants are put in


class ExportError(RuntimeError):
    """The export found the database in a state it must not stamp over."""


def _free_name(conn: psycopg.Connection[Any], folder: Path, when: datetime) -> str:
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
    engine: Engine,
    *,
    now: datetime | None = None,
    retry: RetryPolicy = DEFAULT_RETRY,
    after_upload: Callable[[Path], None] | None = None,
    delivery: targets.Delivery | None = None,
) -> ExportResult:
    """Write, send and stamp one manifest; see the module docstring.

    ``now`` fixes the file's time (tests); ``after_upload`` is called between the
    last upload and the stamp (tests simulate a crash there); ``delivery``: the
    clients to send with (default: as the settings describe them).
    """
    prepared = prepare(engine)
    batch = settings.smartcrop_filewatcher_batchjob
    folder = batch.output_dir
    folder.mkdir(parents=True, exist_ok=True)
    # Not autocommit: everything below is one transaction, committed at the end of
    # the block and rolled back by any exception (or by the server, on a crash).
    with bulk_connection(engine) as conn:
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
            sent = targets.upload_manifest(
                settings, path, retry=retry, delivery=delivery
            )
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
