"""Suggested crops for a provider file's new work items, one partition per file.

    work_items  ->  crop_suggestions

Each source image the file's rows point at is fetched once (a few at a time, with
timeouts, a size limit and a content-type check, under the fetch policy of
``smartcrop_service.image_fetch``: a private or loopback address is refused and
recorded as such, never requested) and analysed by ``smartcrop.suggest``
(``files.suggest_files``); the five boxes go to ``smartcrop_cropsuggestion`` and the
fetch outcome to ``smartcrop_imagefetch``. An image that cannot be fetched or read is
recorded with its reason and the run goes on: the asset fails only when the database
does. Re-running a partition retries the images that failed (``refresh`` recomputes
all of them).
"""

# No `from __future__ import annotations` here: Dagster reads the annotations of
# asset functions at run time to find their config and resources.
from collections.abc import Iterator

from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    Config,
    MaterializeResult,
)

from assets.events import step_events
from assets.ingestion import work_items
from assets.partitions import file_asset
from resources import DatabaseResource, SettingsResource
from smartcrop.netfetch import FetchPolicy
from smartcrop.suggest import service
from smartcrop.suggest.fetch import (
    CONNECT_TIMEOUT,
    DEADLINE,
    MAX_BYTES,
    READ_TIMEOUT,
    FetchLimits,
)
from smartcrop.suggest.files import suggest_files

GROUP = "suggestions"


class CropSuggestionsConfig(Config):
    """Limits of one run; the defaults suit provider CDNs."""

    refresh: bool = False  # recompute items that already have suggestions
    workers: int = service.WORKERS
    connect_timeout_seconds: float = CONNECT_TIMEOUT
    read_timeout_seconds: float = READ_TIMEOUT
    deadline_seconds: float = DEADLINE
    max_bytes: int = MAX_BYTES


@file_asset(
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
    # One file, or the batch of files one ingestion run took (see assets.ingestion).
    suggested = suggest_files(
        database,
        list(context.partition_keys),
        policy=FetchPolicy.from_settings(settings.load()),
        limits=FetchLimits(
            max_bytes=config.max_bytes,
            connect_timeout=config.connect_timeout_seconds,
            read_timeout=config.read_timeout_seconds,
            deadline=config.deadline_seconds,
        ),
        workers=config.workers,
        refresh=config.refresh,
        log=context.log,
    )
    yield from step_events(suggested)


suggestion_assets = [crop_suggestions]
