"""The smartcrop command run as a user runs it: a real process of this checkout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# `python -m smartcrop_cli` from this checkout: the `smartcrop` script of the venv
# runs whichever checkout was installed (editable), which may be another work tree.
SMARTCROP = [sys.executable, "-m", "smartcrop_cli"]


def cli_env(env: dict[str, str]) -> dict[str, str]:
    """The environment for the command: this checkout first on the import path."""
    path = os.pathsep.join(
        p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p
    )
    return {**os.environ, "PYTHONPATH": path, **env}


def run(args: list[str], env: dict[str, str], cwd: Path, stdin: str | None = None):
    return subprocess.run(
        [*SMARTCROP, *args],
        env=cli_env(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
    )
