"""Child task: one small file through the job in process, profiled (for the note)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from bench.harness.profiling import maybe_profile


def task_in_process(p: dict[str, Any]) -> dict[str, Any]:
    """One small manifest through ``ingest_paths`` in process, optionally profiled:
    how much of a run is Dagster and how much is the assets' work."""
    os.environ["DAGSTER_HOME"] = p["dagster_home"]
    os.environ["SMARTCROP_CONFIG"] = p["config"]
    from dagster import DagsterInstance  # noqa: PLC0415

    from pipelines.runner import ingest_paths  # noqa: PLC0415

    profile = Path(p["profile"]) if p.get("profile") else None
    seconds = []
    with DagsterInstance.get() as instance:
        for index, name in enumerate(p["files"]):
            use = profile if index == len(p["files"]) - 1 else None
            with maybe_profile(use):
                start = time.perf_counter()
                ingest_paths(
                    [Path(name)],
                    instance=instance,
                    database_url=p["db_url"],
                    config_path=p["config"],
                )
                seconds.append(time.perf_counter() - start)
    return {"seconds": seconds}


TASKS = {"in_process": task_in_process}
