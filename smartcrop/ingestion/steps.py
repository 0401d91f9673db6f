"""The three ingestion steps over a run's files, and the check that follows them.

    fetch_files  ->  land_files  ->  derive_files      (check_links after)

Each takes the run's partition keys (one file, or a sensor's batch: a range of
partitions), goes through the files one at a time and answers a ``StepResult``
(``smartcrop.ingestion.outcome``): what it did per file, the files it set aside and
why, the summary and checks the Dagster assets report. A bad file among good ones is
recorded ``failed`` and quarantined while the others go on; a step fails only when
none of its files could be handled. Errors that another attempt may fix (a database
restart, a remote source down) are raised, so the asset's retry policy applies.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import psycopg

from smartcrop.ingestion import acquire, landing
from smartcrop.ingestion import work_items as items
from smartcrop.ingestion.manifests import ManifestError
from smartcrop.ingestion.outcome import (
    Check,
    FileFailure,
    Json,
    Metadata,
    StepResult,
    bullets,
)
from smartcrop.settings import Settings
from smartcrop.transfer.s3 import S3ClientFactory

_log = logging.getLogger(__name__)

NO_RECORD = "no recorded file: materialise manifest_file first"


# -- manifest_file -------------------------------------------------------------------


class FileUnavailable(Exception):
    """A file no retry can bring back: a partition without a file, a staged file that
    vanished or was swapped for a link or a FIFO after the sensor saw it."""


@dataclass(frozen=True)
class FetchedFile:
    file: str
    source: str
    location: str
    status: str
    checksum: str
    size: int
    duplicate_of: str

    def metadata(self) -> Metadata:
        return {
            "file": self.file,
            "source": self.source,
            "location": self.location,
            "status": self.status,
            "checksum": self.checksum,
            "size": self.size,
            "duplicate_of": self.duplicate_of,
        }


@dataclass
class Fetched(StepResult):
    files: dict[str, FetchedFile] = field(default_factory=dict)

    def summary(self) -> Metadata:
        if self.single:
            return self.files[self.keys[0]].metadata()
        skipped = sum(1 for f in self.files.values() if f.status == "skipped")
        return {
            "files": len(self.keys),
            "fetched": len(self.files) - skipped,
            "skipped": skipped,
            "failed": len(self.failed),
            "failures": self.failures_md(),
        }


def fetch_files(
    conn: psycopg.Connection,
    settings: Settings,
    keys: Sequence[str],
    given: Mapping[str, acquire.Locator],
    *,
    s3: S3ClientFactory,
    sftp: acquire.SftpEndpointFor,
    log: logging.Logger = _log,
) -> Fetched:
    """Each file of the run fetched once into the working area and recorded in
    ``smartcrop_upload_files`` (a copy of content already ingested is ``skipped``).
    ``given``: where files are (``given_locators``); a partition not in it is
    fetched again from where its record says."""
    result = Fetched(list(keys))
    for key in keys:
        try:
            result.files[key] = _fetch_one(
                conn, settings, key, given.get(key), s3=s3, sftp=sftp, log=log
            )
        except FileUnavailable as exc:
            result.failed[key] = FileFailure(str(exc))
    result.log_failures(log)
    return result


def _fetch_one(
    conn: psycopg.Connection,
    settings: Settings,
    key: str,
    locator: acquire.Locator | None,
    *,
    s3: S3ClientFactory,
    sftp: acquire.SftpEndpointFor,
    log: logging.Logger,
) -> FetchedFile:
    if locator is None:
        known = landing.file_record(conn, key)
        if known is None:
            raise FileUnavailable(
                f"partition {key} has no file yet: it is created by a sensor or by "
                "`smartcrop ingest`, which say where the file is"
            )
        # A re-run or a backfill: the file recorded for this partition.
        locator = acquire.Locator(known.source, known.source_path)
    try:
        path = acquire.fetch(settings, locator, key, s3=s3, sftp=sftp)
    except FileNotFoundError as exc:
        raise FileUnavailable(str(exc)) from None
    record = landing.record_file(
        conn,
        partition_key=key,
        path=path,
        filename=locator.filename,
        source=locator.source,
        source_path=acquire.readable(locator.location),
        source_modified=locator.modified,
    )
    if record.status == "skipped":
        log.info("skipped %s: %s", record.filename, record.duplicate_of)
    return FetchedFile(
        file=record.filename,
        source=locator.source,
        location=locator.location,
        status=record.status,
        checksum=record.checksum,
        size=path.stat().st_size,
        duplicate_of=record.duplicate_of or "",
    )


# -- manifest_rows -------------------------------------------------------------------


@dataclass
class Landed(StepResult):
    # None: a skipped file (its content was already ingested), nothing landed.
    landed: dict[str, landing.LandingResult | None] = field(default_factory=dict)
    # (partition, row, reason) of the rows not ingested, the first of each file.
    examples: list[tuple[str, int, str]] = field(default_factory=list)

    @property
    def results(self) -> list[landing.LandingResult]:
        return [r for r in self.landed.values() if r is not None]

    @property
    def rejected(self) -> int:
        return sum(r.rejected_rows for r in self.results)

    def summary(self) -> Metadata:
        if self.single:
            only = self.landed[self.keys[0]]
            if only is None:
                return {"status": "skipped", "rows": 0}
            return {
                "status": "landed",
                "provider": only.provider,
                "rows": only.total_rows,
                "rejected_rows": only.rejected_rows,
            }
        return {
            "files": len(self.keys),
            "landed": len(self.results),
            "skipped": sum(1 for r in self.landed.values() if r is None),
            "failed": len(self.failed),
            "rows": sum(r.total_rows for r in self.results),
            "rejected_rows": self.rejected,
        }

    def checks(self) -> list[Check]:
        reasons: dict[str, int] = {}
        for r in self.results:
            for reason, count in r.reasons.items():
                reasons[reason] = reasons.get(reason, 0) + count
        quarantined = {
            key: f.quarantined_as
            for key, f in self.failed.items()
            if f.quarantined_as is not None
        }
        return [
            Check(
                name="rejected_rows",
                passed=self.rejected == 0,
                severity="warn",
                metadata={
                    "rejected_rows": self.rejected,
                    "reasons": Json(reasons),
                    "first_rows": bullets(
                        [
                            (
                                f"row {n}: {reason}"
                                if self.single
                                else f"{key} row {n}: {reason}"
                            )
                            for key, n, reason in self.examples
                        ]
                    ),
                },
            ),
            Check(
                name="files_readable",
                passed=not self.failed,
                severity="error",
                metadata={
                    "failed": len(self.failed),
                    "failures": self.failures_md(),
                    "quarantined_as": Json(quarantined),
                },
            ),
        ]


def land_files(
    conn: psycopg.Connection,
    settings: Settings,
    keys: Sequence[str],
    *,
    log: logging.Logger = _log,
) -> Landed:
    """Every parsed row of each fetched file landed in ``smartcrop_inputfiles`` (one
    COPY per file); an unreadable file is recorded failed and quarantined, landing
    nothing."""
    groups = settings.smartcrop_filewatcher_settings.provider_file_type.as_mapping()
    result = Landed(list(keys))
    for key in keys:
        record = landing.file_record(conn, key)
        if record is None:
            result.failed[key] = FileFailure(NO_RECORD)
            continue
        if record.status == "skipped":
            result.landed[key] = None
            continue
        path = acquire.work_path(settings, key, record.filename)
        try:
            result.landed[key] = landing.land_rows(conn, record, path, groups)
        except ManifestError as exc:
            landing.mark_failed(conn, record.id, str(exc))
            moved = acquire.quarantine(settings, path, key) if path.exists() else None
            result.failed[key] = FileFailure(
                f"{record.filename}: {exc}",
                kind=exc.kind,
                quarantined_as=str(moved) if moved else "",
            )
            continue
        result.examples.extend(
            (key, n, reason) for n, reason in items.rejected_rows(conn, record.id)
        )
    result.log_failures(log)
    return result


# -- work_items ----------------------------------------------------------------------


@dataclass
class Derived(StepResult):
    # None: a skipped file, no items derived.
    derived: dict[str, items.DerivationResult | None] = field(default_factory=dict)

    def summary(self) -> Metadata:
        results = [d for d in self.derived.values() if d is not None]
        ingested = sum(d.ingested_items for d in results)
        duplicates = sum(d.duplicates for d in results)
        accepted = sum(d.accepted_rows for d in results)
        if not self.single:
            return {
                "files": len(self.keys),
                "ingested_files": len(results),
                "ingested_items": ingested,
                "duplicates": duplicates,
                "accepted_rows": accepted,
            }
        if not results:
            return {"status": "skipped", "ingested_items": 0}
        return {
            "status": "ingested",
            "ingested_items": ingested,
            "duplicates": duplicates,
            "accepted_rows": accepted,
        }

    def checks(self) -> list[Check]:
        duplicates = sum(d.duplicates for d in self.derived.values() if d is not None)
        return [
            Check(
                name="duplicates",
                passed=duplicates == 0,
                severity="warn",
                metadata={"duplicates": duplicates},
            )
        ]


def derive_files(
    conn: psycopg.Connection, keys: Sequence[str], *, log: logging.Logger = _log
) -> Derived:
    """New work items in ``smartcrop_programimage`` from each landed file; the
    database dedupes (ProgramId, image URL) within and across files."""
    result = Derived(list(keys))
    for key in keys:
        record = landing.file_record(conn, key)
        if record is None:
            result.failed[key] = FileFailure(NO_RECORD)
        elif record.status == "skipped":
            result.derived[key] = None
        elif record.status == "failed":
            result.failed[key] = FileFailure(f"{record.filename} failed to land")
        else:
            result.derived[key] = items.derive_work_items(conn, record)
    result.log_failures(log)
    return result


# -- every_row_has_a_work_item -------------------------------------------------------


def check_links(conn: psycopg.Connection, keys: Sequence[str] | None) -> Check:
    """Every accepted row of the files (None: of every file) has its work item; an
    error when one has none (rows lost between a provider's file and the queue)."""
    found = items.unlinked_rows(conn, keys)
    return Check(
        passed=found.passed,
        severity="error",
        metadata={
            "files": found.files,
            "accepted_rows": found.accepted_rows,
            "unlinked_rows": found.unlinked_rows,
            "unlinked_by_file": Json(found.unlinked_by_file),
            "first_unlinked": bullets(
                [
                    f"{r.partition_key} row {r.row}: ProgramId {r.program_id}, "
                    f"{r.image_url} (links to {r.linked_to})"
                    for r in found.first_unlinked
                ]
            ),
        },
    )
