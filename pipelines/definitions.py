"""The Dagster code location: every asset, check, job, sensor, schedule and resource."""

from __future__ import annotations

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
from resources import DatabaseResource, SettingsResource


def build_definitions(
    database_url: str = "", config_path: str | None = None
) -> Definitions:
    """The definitions for a database and a settings file (default: configured).

    The CLI and the tests build their own, pointed at the database they use; the UI
    and the daemon load ``defs`` below.
    """
    settings = SettingsResource(config_path=config_path)
    cfg = settings.load()
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
        resources={
            "database": DatabaseResource(url=database_url),
            "settings": settings,
        },
    )


defs = build_definitions()
