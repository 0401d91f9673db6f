"""The Dagster code location: every asset, check, job, sensor, schedule and resource."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster import Definitions

from assets.exports import export_assets, export_checks
from assets.ingestion import ingestion_assets, ingestion_checks
from assets.suggestions import suggestion_assets
from pipelines.jobs import (
    dump_snapshots_job,
    ingest_manifest_job,
    nightly_manifest_job,
)
from pipelines.maintenance import (
    release_expired_locks_job,
    release_expired_locks_schedule,
)
from pipelines.schedules import build_schedules
from pipelines.sensors import build_sensors
from pipelines.suggestions import suggestion_jobs, suggestion_sensors
from resources import build_resources


def build_definitions(
    database_url: str = "",
    config_path: str | None = None,
    resources: Mapping[str, Any] | None = None,
) -> Definitions:
    """The definitions for a database and a settings file (default: configured).

    The CLI and the tests build their own, pointed at the database they use; the UI
    and the daemon load ``defs`` below. ``resources`` replaces any of
    ``resources.build_resources``' by its key: a test or a deployment swaps a client
    (S3, SFTP, the rendition store) this way, the settings unchanged.
    """
    built = build_resources(database_url, config_path)
    cfg = built["settings"].load()
    interval = cfg.filewatcher.sensor_interval_seconds
    return Definitions(
        assets=[*ingestion_assets, *export_assets, *suggestion_assets],
        asset_checks=[*ingestion_checks, *export_checks],
        jobs=[
            ingest_manifest_job,
            nightly_manifest_job,
            dump_snapshots_job,
            release_expired_locks_job,
            *suggestion_jobs,
        ],
        sensors=[*build_sensors(interval), *suggestion_sensors],
        schedules=[*build_schedules(cfg), release_expired_locks_schedule],
        resources={**built, **(resources or {})},
    )


defs = build_definitions()
