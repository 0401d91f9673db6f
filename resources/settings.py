"""The project's settings as a Dagster resource."""

from __future__ import annotations

from dagster import ConfigurableResource

from smartcrop.settings import Settings, load_settings


class SettingsResource(ConfigurableResource["SettingsResource"]):
    """Reads config.yml and the environment, as every other SmartCrop process does.

    ``config_path`` lets a test or a deployment point one code location at another file
    without touching the process environment.
    """

    config_path: str | None = None

    def load(self) -> Settings:
        return load_settings(config_file=self.config_path)
