"""The local Dagster instance's folder (DAGSTER_HOME) and the children's environment."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from smartcrop.settings import Settings


def dagster_home(settings: Settings) -> Path:
    """DAGSTER_HOME from the environment, else ``smartcrop_service.dagster.home``.

    The repository's dagster.yaml is the source of truth; the folder holds a copy so
    Dagster's run history stays out of the working tree.
    """
    configured = (
        os.environ.get("DAGSTER_HOME") or settings.smartcrop_service.dagster.home
    )
    home = Path(configured).resolve()
    home.mkdir(parents=True, exist_ok=True)
    if Path("dagster.yaml").is_file():
        shutil.copyfile("dagster.yaml", home / "dagster.yaml")
    return home


def dagster_env(settings: Settings, url: str) -> dict[str, str]:
    """The environment of a process on the local instance and this database."""
    home = dagster_home(settings)
    return {**os.environ, "DAGSTER_HOME": str(home), "DATABASE__URL": url}
