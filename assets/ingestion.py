"""Ingestion assets, one partition per provider file (contract section 5).

    manifest_file  ->  manifest_rows  ->  work_items

Each asset is thin: it resolves the partition's file and calls the domain
(``smartcrop.ingestion``: acquire, landing, work_items); the database holds the
results, so every asset can be re-materialised (or backfilled) and gives the same rows.

A run covers one file or, when a sensor finds several at once, a batch of them (a
range of partitions run as one run: ``BackfillPolicy.single_run``): starting a run
costs seconds of process start-up, a small file's steps a fraction of one (see
bench/README.md). The steps loop over the run's partitions, one file at a time. A
step fails when none of its files could be handled; a bad file among good ones is
recorded ``failed`` and quarantined, reported by the ``files_readable`` check, and
the others go on.
"""

# No `from __future__ import annotations` here: Dagster reads the annotations of
# asset and sensor functions at run time to find their config and resources.
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    BackfillPolicy,
    Backoff,
    Config,
    DynamicPartitionsDefinition,
    Failure,
    Jitter,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    asset,
    asset_check,
)

from resources import DatabaseResource, SettingsResource
from smartcrop.ingestion import acquire, landing
from smartcrop.ingestion import work_items as items
from smartcrop.ingestion.manifests import ManifestError

# The partitions' name, for the instance's calls that take it (the definition's own
# ``name`` is optional in its type).
MANIFEST_PARTITIONS = "manifest_files"
manifest_partitions = DynamicPartitionsDefinition(name=MANIFEST_PARTITIONS)

# The database restarting (a failover, an upgrade) fails a step with a connection
# error; landing and deriving are idempotent, so the step is simply tried again.
# A bad file is a Failure(allow_retries=False) and is never retried.
DATABASE_RETRY = RetryPolicy(
    max_retries=3, delay=5, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS
)

# A batch of files is one run; a backfill of many partitions from the UI is one run
# per this many partitions.
BATCH_POLICY = BackfillPolicy.single_run()

GROUP = "ingestion"


class FileLocation(Config):
    """One file of a batch run: its partition and where the file is."""

    partition_key: str
    source: str
    location: str
    modified: str = ""
    size: int = -1


class ManifestFileConfig(Config):
    """Where the run's files are. A sensor or the CLI fills it in: ``source`` and
    ``location`` for a run of one file, ``files`` for a batch. A re-run or a backfill
    from the UI leaves it empty and the file already fetched is used."""

    source: str = ""
    location: str = ""
    modified: str = ""
    size: int = -1
    files: list[FileLocation] = []


def _locator(
    source: str, location: str, modified: str, size: int
) -> acquire.Locator | None:
    if not source:
        return None
    return acquire.Locator(
        source=source,
        location=location,
        modified=datetime.fromisoformat(modified) if modified else None,
        size=size if size >= 0 else None,
    )


def _given_locators(
    config: ManifestFileConfig, keys: list[str]
) -> dict[str, acquire.Locator]:
    given = {
        f.partition_key: loc
        for f in config.files
        if (loc := _locator(f.source, f.location, f.modified, f.size)) is not None
    }
    single = _locator(config.source, config.location, config.modified, config.size)
    if single is not None and len(keys) == 1:
        given.setdefault(keys[0], single)
    return given


def _run_keys(context: AssetExecutionContext) -> list[str]:
    """The run's partitions: one file, or a sensor's batch (a range the sensor cut
    from the stored partition order, so it holds exactly its files)."""
    return list(context.partition_keys)


NO_RECORD = "no recorded file: materialise manifest_file first"


def _fail_all(failures: dict[str, str]) -> Failure:
    text = "; ".join(f"{key}: {reason}" for key, reason in failures.items())
    return Failure(text, allow_retries=False)


def _failures_md(failures: dict[str, str]) -> MetadataValue:
    return MetadataValue.md(
        "\n".join(f"- {key}: {reason}" for key, reason in failures.items()) or "none"
    )


@asset(
    partitions_def=manifest_partitions,
    backfill_policy=BATCH_POLICY,
    group_name=GROUP,
    kinds={"xlsx", "postgres"},
    # Remote sources fail for a while and recover; the transfer layer retries quick
    # blips, this covers longer outages.
    retry_policy=RetryPolicy(
        max_retries=3, delay=5, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS
    ),
    description="The provider file, fetched once into the working area and recorded "
    "in smartcrop_upload_files (a copy of content already ingested is skipped).",
)
def manifest_file(
    context: AssetExecutionContext,
    config: ManifestFileConfig,
    database: DatabaseResource,
    settings: SettingsResource,
) -> MaterializeResult[None]:
    cfg = settings.load()
    keys = _run_keys(context)
    given = _given_locators(config, keys)
    fetched: dict[str, dict[str, Any]] = {}
    failures: dict[str, str] = {}
    with database.connection() as conn:
        for key in keys:
            try:
                fetched[key] = _fetch_one(context, conn, cfg, key, given.get(key))
            except Failure as exc:
                failures[key] = exc.description or str(exc)
    if failures and not fetched:
        raise _fail_all(failures)
    for key, reason in failures.items():
        context.log.error(f"{key}: {reason}")
    if len(keys) == 1:
        return MaterializeResult(metadata=fetched[keys[0]])
    return MaterializeResult(
        metadata={
            "files": len(keys),
            "fetched": sum(1 for m in fetched.values() if m["status"] != "skipped"),
            "skipped": sum(1 for m in fetched.values() if m["status"] == "skipped"),
            "failed": len(failures),
            "failures": _failures_md(failures),
        }
    )


def _fetch_one(
    context: AssetExecutionContext,
    conn: Any,
    cfg: Any,
    key: str,
    locator: acquire.Locator | None,
) -> dict[str, Any]:
    known = landing.file_record(conn, key)
    if locator is None:
        if known is None:
            raise Failure(
                f"partition {key} has no file yet: it is created by a sensor or by "
                "`smartcrop ingest`, which say where the file is",
                allow_retries=False,
            )
        # A re-run or a backfill: the file recorded for this partition.
        locator = acquire.Locator(known.source, known.source_path)
    try:
        path = acquire.fetch(cfg, locator, key)
    except FileNotFoundError as exc:
        # A staged file that vanished, or was swapped for a link or a FIFO after
        # the sensor saw it: no retry can bring it back.
        raise Failure(str(exc), allow_retries=False) from None
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
        context.log.info("skipped %s: %s", record.filename, record.duplicate_of)
    return {
        "file": record.filename,
        "source": locator.source,
        "location": locator.location,
        "status": record.status,
        "checksum": record.checksum,
        "size": path.stat().st_size,
        "duplicate_of": record.duplicate_of or "",
    }


@asset(
    partitions_def=manifest_partitions,
    backfill_policy=BATCH_POLICY,
    group_name=GROUP,
    deps=[manifest_file],
    kinds={"postgres"},
    retry_policy=DATABASE_RETRY,
    check_specs=[
        AssetCheckSpec(
            "rejected_rows",
            asset="manifest_rows",
            description="Rows not ingested, each with its reason (warns when any).",
        ),
        AssetCheckSpec(
            "files_readable",
            asset="manifest_rows",
            description="Files of a batch that could not be read at all: each is "
            "recorded failed and quarantined while the others go on.",
        ),
    ],
    description="Every parsed row landed in smartcrop_inputfiles with one COPY; an "
    "unreadable file is recorded as failed and quarantined, landing nothing.",
)
def manifest_rows(
    context: AssetExecutionContext,
    database: DatabaseResource,
    settings: SettingsResource,
) -> Iterator[MaterializeResult[None] | AssetCheckResult]:
    cfg = settings.load()
    groups = cfg.smartcrop_filewatcher_settings.provider_file_type.as_mapping()
    keys = _run_keys(context)
    landed: dict[str, landing.LandingResult | None] = {}
    failures: dict[str, str] = {}
    quarantined: dict[str, str] = {}
    examples: list[tuple[str, int, str]] = []
    with database.connection() as conn:
        for key in keys:
            record = landing.file_record(conn, key)
            if record is None:
                failures[key] = NO_RECORD
                continue
            if record.status == "skipped":
                landed[key] = None
                continue
            path = acquire.work_path(cfg, key, record.filename)
            try:
                landed[key] = landing.land_rows(conn, record, path, groups)
            except ManifestError as exc:
                landing.mark_failed(conn, record.id, str(exc))
                moved = acquire.quarantine(cfg, path, key) if path.exists() else None
                failures[key] = f"{record.filename}: {exc}"
                quarantined[key] = str(moved) if moved else ""
                if len(keys) == 1:
                    raise Failure(
                        failures[key],
                        metadata={
                            "reason": exc.kind,
                            "quarantined_as": quarantined[key],
                        },
                        allow_retries=False,
                    ) from None
                continue
            examples.extend(
                (key, n, reason) for n, reason in items.rejected_rows(conn, record.id)
            )
    if failures and len(failures) == len(keys):
        raise _fail_all(failures)
    for key, reason in failures.items():
        context.log.error(f"{key}: {reason}")
    results = [r for r in landed.values() if r is not None]
    rejected = sum(r.rejected_rows for r in results)
    reasons: dict[str, int] = {}
    for r in results:
        for reason, count in r.reasons.items():
            reasons[reason] = reasons.get(reason, 0) + count
    if len(keys) == 1:
        only = landed[keys[0]]
        yield MaterializeResult(
            metadata=(
                {"status": "skipped", "rows": 0}
                if only is None
                else {
                    "status": "landed",
                    "provider": only.provider,
                    "rows": only.total_rows,
                    "rejected_rows": only.rejected_rows,
                }
            )
        )
    else:
        yield MaterializeResult(
            metadata={
                "files": len(keys),
                "landed": len(results),
                "skipped": sum(1 for r in landed.values() if r is None),
                "failed": len(failures),
                "rows": sum(r.total_rows for r in results),
                "rejected_rows": rejected,
            }
        )
    yield AssetCheckResult(
        check_name="rejected_rows",
        passed=rejected == 0,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "rejected_rows": rejected,
            "reasons": MetadataValue.json(reasons),
            "first_rows": MetadataValue.md(
                "\n".join(
                    (
                        f"- row {n}: {reason}"
                        if len(keys) == 1
                        else f"- {k} row {n}: {reason}"
                    )
                    for k, n, reason in examples
                )
                or "none"
            ),
        },
    )
    yield AssetCheckResult(
        check_name="files_readable",
        passed=not failures,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "failed": len(failures),
            "failures": _failures_md(failures),
            "quarantined_as": MetadataValue.json(quarantined),
        },
    )


@asset(
    partitions_def=manifest_partitions,
    backfill_policy=BATCH_POLICY,
    group_name=GROUP,
    deps=[manifest_rows],
    kinds={"postgres"},
    retry_policy=DATABASE_RETRY,
    check_specs=[
        AssetCheckSpec(
            "duplicates",
            asset="work_items",
            description="Rows repeating a (ProgramId, image URL) already known.",
        ),
    ],
    description="New work items in smartcrop_programimage at (1,0); the database "
    "dedupes (ProgramId, image URL) within and across files.",
)
def work_items(
    context: AssetExecutionContext, database: DatabaseResource
) -> Iterator[MaterializeResult[None] | AssetCheckResult]:
    keys = _run_keys(context)
    derived: dict[str, items.DerivationResult | None] = {}
    failed: dict[str, str] = {}
    with database.connection() as conn:
        for key in keys:
            record = landing.file_record(conn, key)
            if record is None:
                failed[key] = NO_RECORD
            elif record.status == "skipped":
                derived[key] = None
            elif record.status == "failed":
                failed[key] = f"{record.filename} failed to land"
            else:
                derived[key] = items.derive_work_items(conn, record)
    if failed and len(failed) == len(keys):
        raise _fail_all(failed)
    for key, reason in failed.items():
        context.log.error(f"{key}: {reason}")
    results = [d for d in derived.values() if d is not None]
    ingested = sum(d.ingested_items for d in results)
    duplicates = sum(d.duplicates for d in results)
    accepted = sum(d.accepted_rows for d in results)
    if len(keys) == 1:
        metadata: dict[str, Any] = (
            {"status": "skipped", "ingested_items": 0}
            if not results
            else {
                "status": "ingested",
                "ingested_items": ingested,
                "duplicates": duplicates,
                "accepted_rows": accepted,
            }
        )
    else:
        metadata = {
            "files": len(keys),
            "ingested_files": len(results),
            "ingested_items": ingested,
            "duplicates": duplicates,
            "accepted_rows": accepted,
        }
    yield MaterializeResult(metadata=metadata)
    yield AssetCheckResult(
        check_name="duplicates",
        passed=duplicates == 0,
        severity=AssetCheckSeverity.WARN,
        metadata={"duplicates": duplicates},
    )


@asset_check(
    asset=work_items,
    retry_policy=DATABASE_RETRY,
    description="Every accepted row of the file landed in smartcrop_inputfiles has "
    "its work item in smartcrop_programimage (the item of its own ProgramId and "
    "image URL). Fails (error) naming the rows when one has none: work that nobody "
    "will see; materialising the partition again re-creates the missing items. Run "
    "on its own without a partition, it checks every file.",
)
def every_row_has_a_work_item(
    context: AssetCheckExecutionContext, database: DatabaseResource
) -> AssetCheckResult:
    # Its own step after work_items, reading the database, so that it also catches
    # rows that lose their item later (an item deleted by hand, a restore), not only
    # what the derivation just did (which refuses to finish with a row unlinked).
    keys = (
        list(context.partition_keys)
        if context.has_partition_key or context.has_partition_key_range
        else None
    )
    with database.connection() as conn:
        found = items.unlinked_rows(conn, keys)
    return AssetCheckResult(
        passed=found.passed,
        # Rows lost between a provider's file and the operators' queue: an error.
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "files": found.files,
            "accepted_rows": found.accepted_rows,
            "unlinked_rows": found.unlinked_rows,
            "unlinked_by_file": MetadataValue.json(found.unlinked_by_file),
            "first_unlinked": MetadataValue.md(
                "\n".join(
                    f"- {r.partition_key} row {r.row}: ProgramId {r.program_id}, "
                    f"{r.image_url} (links to {r.linked_to})"
                    for r in found.first_unlinked
                )
                or "none"
            ),
        },
    )


ingestion_assets = [manifest_file, manifest_rows, work_items]
ingestion_checks = [every_row_has_a_work_item]
