"""Dump snapshots (contract section 7): four CSVs of the last N days, sent by SFTP.

All four files come from one REPEATABLE READ snapshot, so they agree with each other
even while operators keep working. Each is streamed by ``COPY (...) TO STDOUT`` into
``<name>.part`` and renamed when complete, then uploaded (atomic ``.part`` + rename on
the server, retries with backoff); the local file is removed only once its upload
succeeded, so a failed upload leaves the file in ``smartcrop_dumpdata.local_path``
for an operator to send or inspect.

"The last N days" are N UTC days, today included, as ``smartcrop_reports(N)`` and
``programimage_audit_reports(N)`` count them; the two views are filtered the same way
on the row's created or updated time, whichever is later.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import psycopg
from sqlalchemy import Engine

from smartcrop.db import bulk_connection
from smartcrop.exports import neutralise, targets
from smartcrop.settings import Settings
from smartcrop.transfer import TransferError
from smartcrop.transfer import sftp as sftp_transfer
from smartcrop.transfer.retry import DEFAULT_RETRY, RetryPolicy

log = logging.getLogger(__name__)

MAX_DAYS = 30

# (what, query, destination). Fixed in code; only the day count is a parameter,
# bound by psycopg (COPY takes no server-side parameters). The views' filter starts
# at midnight UTC of the first of the last N days, as the two functions count.
_DUMPS: tuple[tuple[str, str, Literal["output", "audit"]], ...] = (
    (
        "program",
        "SELECT * FROM vwProgramImage WHERE greatest(createdat, updatedat) >="
        " (((now() AT TIME ZONE 'UTC')::date - (CAST(%(days)s AS integer) - 1))"
        "::timestamp AT TIME ZONE 'UTC') ORDER BY imageid",
        "output",
    ),
    (
        "aspect",
        "SELECT * FROM vwAspectRatioImages WHERE greatest(createdat, updatedat) >="
        " (((now() AT TIME ZONE 'UTC')::date - (CAST(%(days)s AS integer) - 1))"
        "::timestamp AT TIME ZONE 'UTC') ORDER BY renditionid",
        "output",
    ),
    ("summary", "SELECT * FROM smartcrop_reports(%(days)s)", "output"),
    ("audit", "SELECT * FROM programimage_audit_reports(%(days)s)", "audit"),
)


@dataclass(frozen=True)
class DumpFile:
    kind: str  # program | aspect | summary | audit
    name: str
    rows: int
    destination: Literal["output", "audit"]
    sent_to: str | None = None  # where it went; None: not sent
    error: str | None = None


@dataclass(frozen=True)
class DumpResult:
    status: Literal["success", "failed"]
    days: int
    files: tuple[DumpFile, ...]
    error: str | None = None

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.files]

    def response(self) -> dict[str, Any]:
        """The contract's answer (section 4.9)."""
        if self.status == "success":
            return {"status": "success", "files": self.names}
        return {"status": "failed"}


def dump_name(prefix: str, when: datetime) -> str:
    return f"{prefix}_{when.astimezone(UTC):%Y%m%d_%H%M%S}.csv"


def check_days(days: int) -> int:
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"date_range must be a number of days from 1 to {MAX_DAYS}")
    return days


def _write(cur: psycopg.Cursor, query: str, days: int, path: Path) -> int:
    """COPY one query to ``path`` as CSV with a header; return its data rows.

    Text that a spreadsheet would run as a formula is neutralised (``neutralise``)."""
    part = path.with_name(path.name + ".part")
    safe = neutralise.neutralised_query(cur, query, {"days": days})
    statement = f"COPY ({safe}) TO STDOUT (FORMAT csv, HEADER true)"
    try:
        with part.open("wb") as out:
            with cur.copy(statement, {"days": days}) as copy:
                for block in copy:
                    out.write(block)
            out.flush()
            os.fsync(out.fileno())
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return max(cur.rowcount, 0)  # COPY reports its row count


def write_dumps(
    settings: Settings, engine: Engine, days: int, when: datetime
) -> list[tuple[str, Path, Literal["output", "audit"], int]]:
    """The four files in ``local_path``, from one consistent snapshot."""
    dump = settings.smartcrop_dumpdata
    folder = dump.local_path
    folder.mkdir(parents=True, exist_ok=True)
    written: list[tuple[str, Path, Literal["output", "audit"], int]] = []
    with bulk_connection(engine) as conn:
        # The transaction's first statement (psycopg has just begun it): one
        # snapshot for all four files.
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        # Timestamps in the files are UTC whatever the server's zone.
        conn.execute("SET LOCAL TIME ZONE 'UTC'")
        with conn.cursor() as cur:
            for kind, query, destination in _DUMPS:
                path = folder / dump_name(getattr(dump.filenames, kind), when)
                rows = _write(cur, query, days, path)
                written.append((kind, path, destination, rows))
        conn.rollback()
    return written


def dump_snapshots(
    settings: Settings,
    engine: Engine,
    *,
    days: int | None = None,
    now: datetime | None = None,
    retry: RetryPolicy = DEFAULT_RETRY,
    delivery: targets.Delivery | None = None,
) -> DumpResult:
    """Write the four dump files for the last ``days`` days and send them (with
    ``delivery``'s SFTP endpoints; default: as the settings describe them).

    ``days`` defaults to ``smartcrop_dumpdata.date_range``. With no SFTP host
    configured the files are written and kept locally (status success). A file whose
    upload failed stays in ``local_path`` and the result is ``failed``.
    """
    if days is None:
        days = settings.smartcrop_dumpdata.date_range
    check_days(days)
    written = write_dumps(settings, engine, days, now or datetime.now(UTC))
    ftp = settings.smartcrop_ftp_config
    if not ftp.host:
        log.warning(
            "dump files written to %s and kept: smartcrop_ftp_config.host is empty",
            settings.smartcrop_dumpdata.local_path,
        )
        return DumpResult(
            "success",
            days,
            tuple(DumpFile(k, p.name, n, d) for k, p, d, n in written),
        )
    delivery = delivery or targets.delivery_from_settings(settings)
    files: list[DumpFile] = []
    for kind, path, destination, rows in written:
        port = ftp.ports.output if destination == "output" else ftp.ports.audit
        directory = (
            ftp.directories.output if destination == "output" else ftp.directories.audit
        )
        try:
            endpoint = delivery.sftp_endpoint(port)
            remote = sftp_transfer.upload(
                endpoint, path, directory, path.name, retry=retry
            )
        except TransferError as exc:
            log.error("dump %s not sent, kept in %s: %s", path.name, path.parent, exc)
            files.append(DumpFile(kind, path.name, rows, destination, error=str(exc)))
            continue
        # Only now: the server holds the whole file under its final name.
        path.unlink()
        files.append(
            DumpFile(kind, path.name, rows, destination, endpoint.describe(remote))
        )
    failed = [f for f in files if f.error]
    if failed:
        return DumpResult(
            "failed",
            days,
            tuple(files),
            error="; ".join(f"{f.name}: {f.error}" for f in failed),
        )
    return DumpResult("success", days, tuple(files))
