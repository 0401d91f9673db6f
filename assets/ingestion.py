"""Ingestion assets, one partition per provider file (contract section 5).

    manifest_file  ->  manifest_rows  ->  work_items

A run covers one file or, when a sensor finds several at once, a batch of them (a
range of partitions, ``assets.partitions``). Each asset calls one step of
``smartcrop.ingestion.steps``, which goes through the run's files one at a time and
answers what it did; ``assets.events`` turns that into Dagster events. The database
holds the results, so every asset can be re-materialised (or backfilled) and gives
the same rows. A step fails when none of its files could be handled; a bad file among
good ones is recorded ``failed`` and quarantined, reported by the ``files_readable``
check, and the others go on.
"""

# No `from __future__ import annotations` here: Dagster reads the annotations of
# asset and sensor functions at run time to find their config and resources.
from collections.abc import Iterator

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    Backoff,
    Config,
    Jitter,
    MaterializeResult,
    RetryPolicy,
    asset_check,
)

from assets.events import check_result, materialized, step_events
from assets.partitions import (
    BATCH_POLICY,
    MANIFEST_PARTITIONS,
    file_asset,
    manifest_partitions,
)
from resources import (
    DatabaseResource,
    S3ClientResource,
    SettingsResource,
    SftpResource,
)
from smartcrop.ingestion import run_config, steps

__all__ = [
    "BATCH_POLICY",
    "MANIFEST_PARTITIONS",
    "ingestion_assets",
    "ingestion_checks",
    "manifest_partitions",
]

# The database restarting (a failover, an upgrade) fails a step with a connection
# error; landing and deriving are idempotent, so the step is simply tried again.
# A bad file is a Failure(allow_retries=False) and is never retried.
DATABASE_RETRY = RetryPolicy(
    max_retries=3, delay=5, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS
)

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


@file_asset(
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
    s3: S3ClientResource,
    sftp: SftpResource,
) -> MaterializeResult[None]:
    keys = list(context.partition_keys)
    given = run_config.given_locators(config.model_dump(), keys)
    with database.connection() as conn:
        fetched = steps.fetch_files(
            conn,
            settings.load(),
            keys,
            given,
            s3=s3.make_client,
            sftp=sftp.endpoint_for,
            log=context.log,
        )
    return materialized(fetched)


@file_asset(
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
    with database.connection() as conn:
        landed = steps.land_files(
            conn, settings.load(), list(context.partition_keys), log=context.log
        )
    yield from step_events(landed)


@file_asset(
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
    with database.connection() as conn:
        derived = steps.derive_files(
            conn, list(context.partition_keys), log=context.log
        )
    yield from step_events(derived)


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
        return check_result(steps.check_links(conn, keys))


ingestion_assets = [manifest_file, manifest_rows, work_items]
ingestion_checks = [every_row_has_a_work_item]
