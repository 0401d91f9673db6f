"""Suggested crops for a provider file's new work items, one partition per file.

    work_items  ->  crop_suggestions

Each source image the file's rows point at is fetched once (a few at a time, with
timeouts, a size limit and a content-type check, under the fetch policy of
``smartcrop_service.image_fetch``: a private or loopback address is refused and
recorded as such, never requested) and analysed by
``smartcrop.suggest``; the five boxes go to ``smartcrop_cropsuggestion`` and the fetch
outcome to ``smartcrop_imagefetch``. An image that cannot be fetched or read is
recorded with its reason and the run goes on: the asset fails only when the database
does. Re-running a partition retries the images that failed (``refresh`` recomputes
all of them).
"""

# No `from __future__ import annotations` here: Dagster reads the annotations of
# asset functions at run time to find their config and resources.
from collections import Counter
from collections.abc import Iterator

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    Config,
    MaterializeResult,
    MetadataValue,
    asset,
)

from assets.ingestion import BATCH_POLICY, manifest_partitions, work_items
from resources import DatabaseResource, SettingsResource
from smartcrop.ingestion import landing
from smartcrop.netfetch import FetchPolicy
from smartcrop.suggest import service, store
from smartcrop.suggest.fetch import (
    CONNECT_TIMEOUT,
    DEADLINE,
    MAX_BYTES,
    READ_TIMEOUT,
    FetchLimits,
)

GROUP = "suggestions"


class CropSuggestionsConfig(Config):
    """Limits of one run; the defaults suit provider CDNs."""

    refresh: bool = False  # recompute items that already have suggestions
    workers: int = service.WORKERS
    connect_timeout_seconds: float = CONNECT_TIMEOUT
    read_timeout_seconds: float = READ_TIMEOUT
    deadline_seconds: float = DEADLINE
    max_bytes: int = MAX_BYTES


@asset(
    partitions_def=manifest_partitions,
    backfill_policy=BATCH_POLICY,
    group_name=GROUP,
    deps=[work_items],
    kinds={"opencv", "postgres"},
    check_specs=[
        AssetCheckSpec(
            "images_fetched",
            asset="crop_suggestions",
            description="Source images that could not be fetched or read, each with "
            "its reason (warns when any).",
        )
    ],
    description="Five suggested crop boxes (faces, then saliency, then the centre) "
    "for each new source image of the file, in smartcrop_cropsuggestion; unreachable "
    "or broken images are recorded in smartcrop_imagefetch with the reason.",
)
def crop_suggestions(
    context: AssetExecutionContext,
    config: CropSuggestionsConfig,
    database: DatabaseResource,
    settings: SettingsResource,
) -> Iterator[MaterializeResult[None] | AssetCheckResult]:
    policy = FetchPolicy.from_settings(settings.load())
    # One file, or the batch of files one ingestion run took (see assets.ingestion).
    keys = list(context.partition_keys)
    limits = FetchLimits(
        max_bytes=config.max_bytes,
        connect_timeout=config.connect_timeout_seconds,
        read_timeout=config.read_timeout_seconds,
        deadline=config.deadline_seconds,
    )
    methods: Counter[str] = Counter()
    failures: list[tuple[int, str, str]] = []
    analysed = images = files = 0
    status = "analysed"
    for key in keys:
        with database.connection() as conn:
            record = landing.file_record(conn, key)
        if record is None or record.status != "ingested":
            status = "no file" if record is None else record.status
            context.log.info(
                "partition %s: file is %s, nothing to suggest", key, status
            )
            continue
        files += 1
        with database.session() as session:
            items = store.items_of_file(session, record.id, refresh=config.refresh)
        images += len(items)
        failed_before = len(failures)
        for outcome in service.analyse_items(
            items, workers=config.workers, limits=limits, policy=policy
        ):
            # Stored one by one, so a stopped run keeps what it did.
            with database.session() as session:
                store.save_outcome(session, outcome)
            if outcome.status == "ok":
                analysed += 1
                methods.update(s.method for s in outcome.suggestions)
            else:
                failures.append(
                    (outcome.item.id, outcome.item.url, outcome.reason or "")
                )
        context.log.info(
            "%s: %d images analysed, %d could not be",
            key,
            len(items) - (len(failures) - failed_before),
            len(failures) - failed_before,
        )
    failures.sort()
    if len(keys) == 1 and not files:
        yield MaterializeResult(metadata={"status": status, "images": 0})
        yield AssetCheckResult(check_name="images_fetched", passed=True)
        return
    metadata: dict[str, MetadataValue | str | int] = {
        "status": "analysed",
        "images": images,
        "analysed": analysed,
        "failed": len(failures),
        "methods": MetadataValue.json(dict(sorted(methods.items()))),
    }
    if len(keys) > 1:
        metadata["files"] = files
    yield MaterializeResult(metadata=metadata)
    yield AssetCheckResult(
        check_name="images_fetched",
        passed=not failures,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "failed": len(failures),
            "first_failures": MetadataValue.md(
                "\n".join(
                    f"- image {image_id} ({url}): {reason}"
                    for image_id, url, reason in failures[:20]
                )
                or "none"
            ),
        },
    )


suggestion_assets = [crop_suggestions]
