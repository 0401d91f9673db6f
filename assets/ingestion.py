"""Ingestion assets, one partition per provider file (contract section 5).

    manifest_file  ->  manifest_rows  ->  work_items

Each asset is thin: it resolves the partition's file and calls the domain
(``smartcrop.acquire``, ``smartcrop.ingest``); the database holds the results, so
every asset can be re-materialised (or backfilled) and gives the same rows.
"""

# No `from __future__ import annotations` here: Dagster reads the annotations of
# asset and sensor functions at run time to find their config and resources.
from datetime import datetime

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    Backoff,
    Config,
    DynamicPartitionsDefinition,
    Failure,
    Jitter,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    asset,
)

from resources import DatabaseResource, SettingsResource
from smartcrop import acquire, ingest
from smartcrop.manifests import ManifestError

manifest_partitions = DynamicPartitionsDefinition(name="manifest_files")

# The database restarting (a failover, an upgrade) fails a step with a connection
# error; landing and deriving are idempotent, so the step is simply tried again.
# A bad file is a Failure(allow_retries=False) and is never retried.
DATABASE_RETRY = RetryPolicy(
    max_retries=3, delay=5, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS
)

GROUP = "ingestion"


class ManifestFileConfig(Config):
    """Where the partition's file is. Sensors and the CLI fill it in; a re-run or a
    backfill from the UI leaves it empty and the file already fetched is used."""

    source: str = ""
    location: str = ""
    modified: str = ""
    size: int = -1


def _locator(config: ManifestFileConfig) -> acquire.Locator | None:
    if not config.source:
        return None
    return acquire.Locator(
        source=config.source,
        location=config.location,
        modified=datetime.fromisoformat(config.modified) if config.modified else None,
        size=config.size if config.size >= 0 else None,
    )


@asset(
    partitions_def=manifest_partitions,
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
) -> MaterializeResult:
    key = context.partition_key
    cfg = settings.load()
    with database.connection() as conn:
        known = ingest.file_record(conn, key)
        locator = _locator(config)
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
        record = ingest.record_file(
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
    return MaterializeResult(
        metadata={
            "file": record.filename,
            "source": locator.source,
            "location": locator.location,
            "status": record.status,
            "checksum": record.checksum,
            "size": path.stat().st_size,
            "duplicate_of": record.duplicate_of or "",
        }
    )


@asset(
    partitions_def=manifest_partitions,
    group_name=GROUP,
    deps=[manifest_file],
    kinds={"postgres"},
    retry_policy=DATABASE_RETRY,
    check_specs=[
        AssetCheckSpec(
            "rejected_rows",
            asset="manifest_rows",
            description="Rows not ingested, each with its reason (warns when any).",
        )
    ],
    description="Every parsed row landed in smartcrop_inputfiles with one COPY; an "
    "unreadable file is recorded as failed and quarantined, landing nothing.",
)
def manifest_rows(
    context: AssetExecutionContext,
    database: DatabaseResource,
    settings: SettingsResource,
):
    key = context.partition_key
    cfg = settings.load()
    with database.connection() as conn:
        record = _record_or_fail(conn, key)
        if record.status == "skipped":
            yield MaterializeResult(metadata={"status": "skipped", "rows": 0})
            yield AssetCheckResult(check_name="rejected_rows", passed=True)
            return
        path = acquire.work_path(cfg, key, record.filename)
        groups = cfg.smartcrop_filewatcher_settings.provider_file_type.as_mapping()
        try:
            landed = ingest.land_rows(conn, record, path, groups)
        except ManifestError as exc:
            ingest.mark_failed(conn, record.id, str(exc))
            moved = acquire.quarantine(cfg, path, key) if path.exists() else None
            raise Failure(
                f"{record.filename}: {exc}",
                metadata={
                    "reason": exc.kind,
                    "quarantined_as": str(moved) if moved else "",
                },
                allow_retries=False,
            ) from None
        examples = ingest.rejected_rows(conn, record.id)
    yield MaterializeResult(
        metadata={
            "status": "landed",
            "provider": landed.provider,
            "rows": landed.total_rows,
            "rejected_rows": landed.rejected_rows,
        }
    )
    yield AssetCheckResult(
        check_name="rejected_rows",
        passed=landed.rejected_rows == 0,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "rejected_rows": landed.rejected_rows,
            "reasons": MetadataValue.json(landed.reasons),
            "first_rows": MetadataValue.md(
                "\n".join(f"- row {n}: {reason}" for n, reason in examples) or "none"
            ),
        },
    )


@asset(
    partitions_def=manifest_partitions,
    group_name=GROUP,
    deps=[manifest_rows],
    kinds={"postgres"},
    retry_policy=DATABASE_RETRY,
    check_specs=[
        AssetCheckSpec(
            "every_row_has_a_work_item",
            asset="work_items",
            description="Each accepted row points at exactly one work item.",
        ),
        AssetCheckSpec(
            "duplicates",
            asset="work_items",
            description="Rows repeating a (ProgramId, image URL) already known.",
        ),
    ],
    description="New work items in smartcrop_programimage at (1,0); the database "
    "dedupes (ProgramId, image URL) within and across files.",
)
def work_items(context: AssetExecutionContext, database: DatabaseResource):
    key = context.partition_key
    with database.connection() as conn:
        record = _record_or_fail(conn, key)
        if record.status == "skipped":
            yield MaterializeResult(metadata={"status": "skipped", "ingested_items": 0})
            yield AssetCheckResult(check_name="every_row_has_a_work_item", passed=True)
            yield AssetCheckResult(check_name="duplicates", passed=True)
            return
        if record.status == "failed":
            raise Failure(f"{record.filename} failed to land", allow_retries=False)
        derived = ingest.derive_work_items(conn, record)
    yield MaterializeResult(
        metadata={
            "status": "ingested",
            "ingested_items": derived.ingested_items,
            "duplicates": derived.duplicates,
            "accepted_rows": derived.accepted_rows,
        }
    )
    # derive_work_items refuses to finish when a row is unlinked, so reaching here
    # means every accepted row has its item; the check records that for the UI.
    yield AssetCheckResult(
        check_name="every_row_has_a_work_item",
        passed=True,
        metadata={"accepted_rows": derived.accepted_rows},
    )
    yield AssetCheckResult(
        check_name="duplicates",
        passed=derived.duplicates == 0,
        severity=AssetCheckSeverity.WARN,
        metadata={"duplicates": derived.duplicates},
    )


def _record_or_fail(conn, key: str) -> ingest.FileRecord:  # noqa: ANN001
    record = ingest.file_record(conn, key)
    if record is None:
        raise Failure(
            f"partition {key} has no recorded file: materialise manifest_file first",
            allow_retries=False,
        )
    return record


ingestion_assets = [manifest_file, manifest_rows, work_items]
