"""Export assets: the nightly manifest and the dump snapshots (contract 6 and 7).

    work_items (per provider file) -> completed_renditions -> nightly_manifest
    work_items                     -> dump_snapshots

Thin: each asset calls ``smartcrop.exports`` and reports what it did as metadata; the
crash-safety of the manifest lives in the domain (docs/exports.md). The dependency on
``work_items`` is lineage only (nothing is loaded from it): the UI then shows the way
from a provider's file to the file SmartCrop ships.
"""

# No `from __future__ import annotations` here: Dagster reads the annotations of
# asset functions at run time to find their config and resources.
from collections.abc import Iterator

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
)

from assets.ingestion import work_items
from resources import (
    DatabaseResource,
    S3ClientResource,
    SettingsResource,
    SftpResource,
)
from smartcrop.exports import dumps, manifest, targets
from smartcrop.exports.verify import verify_manifest
from smartcrop.settings import Settings
from smartcrop.transfer.s3 import S3Client


def _delivery(
    cfg: Settings, s3: S3ClientResource, sftp: SftpResource
) -> targets.Delivery:
    """The exports' clients from this code location's resources (so a deployment or
    a test swaps them by resource); where and as whom from the settings."""

    def bucket_client() -> S3Client:
        access = cfg.s3_access(cfg.smartcrop_bucket)
        return s3.make_client(
            endpoint_url=cfg.smartcrop_service.storage.endpoint_url,
            region=access.region,
            access_key=access.access_key,
            secret_key=access.secret_key,
        )

    return targets.Delivery(
        bucket_client=bucket_client,
        sftp_endpoint=lambda port: sftp.adjust(targets.delivery_endpoint(cfg, port)),
    )


GROUP = "exports"
STAMPED_CHECK = "every_row_stamped_with_this_file"
ONCE_CHECK = "no_row_stamped_twice"


@asset(
    deps=[work_items],
    group_name=GROUP,
    kinds={"postgres"},
    description="Completed renditions waiting for the manifest. With QA disabled, "
    "images waiting in QA are completed first (with audit rows); a missing image "
    "type or language id is resolved from the lookups.",
)
def completed_renditions(
    context: AssetExecutionContext,
    database: DatabaseResource,
    settings: SettingsResource,
) -> MaterializeResult[None]:
    engine = database.engine()
    prepared = manifest.prepare(engine)
    images, renditions = manifest.pending(engine)
    context.log.info(f"{renditions} rendition(s) of {images} image(s) to export")
    return MaterializeResult(
        metadata={
            "images": images,
            "renditions": renditions,
            "completed_from_qa": prepared.completed_from_qa,
            "resolved_image_types": prepared.resolved.get("image_types", 0),
            "resolved_languages": prepared.resolved.get("languages", 0),
        }
    )


@asset_check(
    asset=completed_renditions,
    description="No completed image waiting for the manifest is without a "
    "rendition: the manifest skips such an image, so it stays Completed and is never "
    "exported. Warns with how many and the first ProgramIds and image ids; each "
    "needs cropping again.",
)
def completed_images_have_renditions(database: DatabaseResource) -> AssetCheckResult:
    found = manifest.completed_without_renditions(database.engine())
    return AssetCheckResult(
        passed=found.none,
        # WARN, not ERROR: the manifest itself is right and nothing in it was lost;
        # what these images need is someone to crop them again, not a re-run.
        severity=AssetCheckSeverity.WARN,
        metadata={
            "images": found.images,
            "program_ids": MetadataValue.json(
                sorted({program for _, program, _ in found.first})
            ),
            "first_images": MetadataValue.md(
                "\n".join(
                    f"- image {image}: ProgramId {program} ({provider})"
                    for image, program, provider in found.first
                )
                or "none"
            ),
        },
    )


@asset(
    deps=[completed_renditions],
    group_name=GROUP,
    kinds={"csv", "s3", "sftp"},
    check_specs=[
        AssetCheckSpec(
            STAMPED_CHECK,
            asset="nightly_manifest",
            description="Every row of the file is stamped with its name, and every "
            "rendition stamped with its name is in it.",
        ),
        AssetCheckSpec(
            ONCE_CHECK,
            asset="nightly_manifest",
            description="No rendition appears twice and its images were stamped by "
            "one transaction.",
        ),
    ],
    description="SmartCrop_Manifest_YYYYMMDD_HHMMSS.csv: written, sent to every "
    "configured target, then its rows stamped in one transaction (a failed upload "
    "stamps nothing).",
)
def nightly_manifest(
    context: AssetExecutionContext,
    database: DatabaseResource,
    settings: SettingsResource,
    s3: S3ClientResource,
    sftp: SftpResource,
) -> Iterator[MaterializeResult[None] | AssetCheckResult]:
    cfg = settings.load()
    engine = database.engine()
    result = manifest.export_manifest(cfg, engine, delivery=_delivery(cfg, s3, sftp))
    targets = list(dict.fromkeys(cfg.smartcrop_filewatcher_batchjob.targets))
    if result.status == "failed":
        raise Failure(
            description=f"manifest {result.file} was not delivered, so nothing was "
            f"stamped; the next run exports these rows again. {result.error}",
            metadata={"status": "failed", "file": result.file or ""},
            allow_retries=False,
        )
    yield MaterializeResult(
        metadata={
            "status": result.status,
            "file": result.file or "",
            "rows": result.rows,
            "images": result.images,
            "targets": MetadataValue.json(targets),
            "sent_to": MetadataValue.json(list(result.sent_to)),
            "completed_from_qa": result.completed_from_qa,
        }
    )
    if result.path is None:
        # no_rows: no file, nothing to check.
        yield AssetCheckResult(check_name=STAMPED_CHECK, passed=True)
        yield AssetCheckResult(check_name=ONCE_CHECK, passed=True)
        return
    check = verify_manifest(engine, result.path)
    yield AssetCheckResult(
        check_name=STAMPED_CHECK,
        passed=check.every_row_stamped,
        metadata={
            "rows": check.rows,
            "not_stamped": check.not_stamped,
            "stamped_not_in_file": check.stamped_not_in_file,
        },
    )
    yield AssetCheckResult(
        check_name=ONCE_CHECK,
        passed=check.stamped_once,
        metadata={"duplicates": check.duplicates, "stamp_times": check.stamp_times},
    )


class DumpConfig(Config):
    """Days covered, 1..30; 0 takes ``smartcrop_dumpdata.date_range``."""

    date_range: int = 0


@asset(
    deps=[work_items],
    group_name=GROUP,
    kinds={"csv", "sftp"},
    description="SmartCrop_Program/Aspect/Summary/Audit CSVs of the last N days, "
    "sent by SFTP (audit to the audit directory); local copies removed once sent.",
)
def dump_snapshots(
    context: AssetExecutionContext,
    config: DumpConfig,
    database: DatabaseResource,
    settings: SettingsResource,
    s3: S3ClientResource,
    sftp: SftpResource,
) -> MaterializeResult[None]:
    cfg = settings.load()
    try:
        result = dumps.dump_snapshots(
            cfg,
            database.engine(),
            days=config.date_range or None,
            delivery=_delivery(cfg, s3, sftp),
        )
    except ValueError as exc:
        raise Failure(str(exc), allow_retries=False) from None
    if result.status == "failed":
        raise Failure(
            description=f"dump files not all sent (kept locally): {result.error}",
            metadata={"files": MetadataValue.json(result.names)},
            allow_retries=False,
        )
    return MaterializeResult(
        metadata={
            "status": result.status,
            "files": MetadataValue.json(result.names),
            "date_range": result.days,
            "rows": MetadataValue.json({f.name: f.rows for f in result.files}),
            "sent_to": MetadataValue.json([f.sent_to or "" for f in result.files]),
        }
    )


export_assets = [completed_renditions, nightly_manifest, dump_snapshots]
export_checks = [completed_images_have_renditions]
