"""Settings for the code under test: a SmartCrop settings file and a DAGSTER_HOME,
both under a benchmark's temporary folder."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from bench.harness.paths import REPO_ROOT


def write_config(folder: Path, db_url: str, sensor_interval: int | None = None) -> Path:
    """A SmartCrop settings file whose every folder is under ``folder`` and whose
    database is ``db_url``: a benchmark never touches the working tree's .smartcrop/."""
    import yaml  # noqa: PLC0415

    folder.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {
        "database": {"url": db_url, "embedded_dir": str(folder / "pgdata")},
        "processing_middleware": {
            "local_filesystem": {
                "root_path": str(folder / "staging"),
                "quarantine_path": str(folder / "quarantine"),
                "work_dir": str(folder / "work"),
            }
        },
        "smartcrop_service": {
            "storage": {"local_root": str(folder / "renditions")},
            "auth": {"secret_file": str(folder / "jwt_secret")},
        },
        "smartcrop_filewatcher_batchjob": {"output_dir": str(folder / "outbound")},
        "smartcrop_dumpdata": {"local_path": str(folder / "dumps")},
    }
    if sensor_interval is not None:
        config["filewatcher"] = {"sensor_interval_seconds": sensor_interval}
    path = folder / "smartcrop.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def dagster_home(folder: Path) -> Path:
    """A DAGSTER_HOME holding a copy of the repository's dagster.yaml (as
    ``smartcrop dagster`` makes one), so runs and their storage are the real ones."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REPO_ROOT / "dagster.yaml", folder / "dagster.yaml")
    return folder
