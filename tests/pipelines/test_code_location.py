"""The Dagster code location loads as the UI and daemon load it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster import Definitions

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_workspace_loads_and_validates(tmp_path: Path) -> None:
    dagster = Path(sys.executable).parent / "dagster"
    result = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO_ROOT,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Validation successful for code location smartcrop" in output


def test_definitions_carry_the_shared_resources() -> None:
    from pipelines.definitions import defs

    Definitions.validate_loadable(defs)
    resources = defs.resources or {}
    assert {"database", "settings"} <= set(resources)
