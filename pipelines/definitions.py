"""The Dagster code location: every asset, check, job, sensor, schedule and resource."""

from __future__ import annotations

from dagster import Definitions

from assets.ingestion import ingestion_assets
from pipelines.jobs import ingest_manifest_job
from pipelines.sensors import build_sensors
from resources import DatabaseResource, SettingsResource


def build_definitions(
    database_url: str = "", config_path: str | None = None
) -> Definitions:
    """The definitions for a database and a settings file (default: configured).

    The CLI and the tests build their own, pointed at the database they use; the UI
    and the daemon load ``defs`` below.
    """
    settings = SettingsResource(config_path=config_path)
    interval = settings.load().filewatcher.sensor_interval_seconds
    return Definitions(
        assets=[*ingestion_assets],
        jobs=[ingest_manifest_job],
        sensors=build_sensors(interval),
        resources={
            "database": DatabaseResource(url=database_url),
            "settings": settings,
        },
    )


defs = build_definitions()
