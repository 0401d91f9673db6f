"""The local Dagster instance's folder (DAGSTER_HOME) and the children's environment."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from smartcrop.errors import SmartcropError
from smartcrop.settings import Settings


def dagster_home(settings: Settings, keep_instance: bool = False) -> Path:
    """DAGSTER_HOME from the environment, else ``smartcrop_service.dagster.home``.

    The repository's dagster.yaml is the source of truth; the folder holds a copy so
    Dagster's run history stays out of the working tree. With ``keep_instance`` the
    folder's own dagster.yaml is used as it is (a production instance such as
    deploy/dagster.yaml, which a copy would replace).
    """
    configured = (
        os.environ.get("DAGSTER_HOME") or settings.smartcrop_service.dagster.home
    )
    home = Path(configured).resolve()
    if keep_instance:
        if not (home / "dagster.yaml").is_file():
            raise SmartcropError(
                f"--keep-instance: {home} has no dagster.yaml to keep (set "
                "DAGSTER_HOME to the folder that holds the instance's dagster.yaml)"
            )
        return home
    home.mkdir(parents=True, exist_ok=True)
    if Path("dagster.yaml").is_file():
        shutil.copyfile("dagster.yaml", home / "dagster.yaml")
    return home


def dagster_env(
    settings: Settings, url: str, keep_instance: bool = False
) -> dict[str, str]:
    """The environment of a process on the local instance and this database."""
    home = dagster_home(settings, keep_instance)
    return {**os.environ, "DAGSTER_HOME": str(home), "DATABASE__URL": url}


def write_workspace(home: Path, host: str, port: int, location_name: str) -> Path:
    """The workspace of ``smartcrop up``: the one code server, at host:port.

    Written into the Dagster home rather than the repository: the repository's
    workspace.yaml loads the code in process (``dagster dev``, ``dagster definitions
    validate``, the tests), and deploy/workspace.yaml names the production server.
    """
    import yaml  # noqa: PLC0415

    workspace = {
        "load_from": [
            {
                "grpc_server": {
                    "host": host,
                    "port": port,
                    "location_name": location_name,
                }
            }
        ]
    }
    path = home / "workspace.yaml"
    path.write_text(
        "# Written by `smartcrop up` and `smartcrop dagster` at each start: the\n"
        "# webserver and the daemon load the code location from the one code server.\n"
        + yaml.safe_dump(workspace, sort_keys=False)
    )
    return path
