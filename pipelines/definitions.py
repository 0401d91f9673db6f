"""The Dagster code location: every asset, check, job, sensor, schedule and resource."""

from __future__ import annotations

from dagster import Definitions

from resources import DatabaseResource, SettingsResource


def build_definitions() -> Definitions:
    return Definitions(
        assets=[],
        resources={
            "database": DatabaseResource(),
            "settings": SettingsResource(),
        },
    )


defs = build_definitions()
