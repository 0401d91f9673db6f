"""The project's settings as a Dagster resource."""

from __future__ import annotations

from dagster import ConfigurableResource

from smartcrop.settings import Settings, load_settings


class SettingsResource(ConfigurableResource):
    """Reads config.yml and the environment, as every other SmartCrop process does.

    ``config_path`` lets a test or a deployment point one code location at another file
    without touching the process environment.
    """

    config_path: str | None = None

    def load(self) -> Settings:
        if self.config_path:
            import os  # noqa: PLC0415

            previous = os.environ.get("SMARTCROP_CONFIG")
            os.environ["SMARTCROP_CONFIG"] = self.config_path
            try:
                return load_settings()
            finally:
                if previous is None:
                    os.environ.pop("SMARTCROP_CONFIG", None)
                else:
                    os.environ["SMARTCROP_CONFIG"] = previous
        return load_settings()
