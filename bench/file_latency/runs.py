"""Dagster's run records: where a run's time goes."""

from __future__ import annotations

import os
import statistics
from pathlib import Path
from typing import Any


def run_phases(home: Path) -> list[dict[str, Any]]:
    """Every run of the instance: job, file (tag smartcrop/file), and the Unix times
    it was created, enqueued, launched (starting), started in its worker process and
    ended, with the sum of its steps' times. (The queued run coordinator writes no
    dequeued event: 'starting' is when the daemon took it off the queue.)"""
    from dagster import DagsterEventType as E  # noqa: PLC0415, N817
    from dagster import DagsterInstance  # noqa: PLC0415

    wanted = {
        E.RUN_ENQUEUED: "enqueued",
        E.RUN_STARTING: "starting",
        E.RUN_START: "start",
        E.RUN_SUCCESS: "end",
        E.RUN_FAILURE: "end",
        E.RUN_CANCELED: "end",
    }
    runs: list[dict[str, Any]] = []
    previous = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home)
    try:
        with DagsterInstance.get() as instance:
            for record in instance.get_run_records():
                run = record.dagster_run
                times: dict[str, Any] = {
                    "job": run.job_name,
                    "file": run.tags.get("smartcrop/file"),
                    "status": run.status.value,
                    "created": record.create_timestamp.timestamp(),
                }
                step_start: dict[str, float] = {}
                steps = 0.0
                for entry in instance.all_logs(run.run_id):
                    event = entry.dagster_event
                    if event is None:
                        continue
                    kind = event.event_type
                    if kind in wanted:
                        times[wanted[kind]] = entry.timestamp
                    elif kind == E.STEP_START:
                        step_start[event.step_key or ""] = entry.timestamp
                    elif kind in (E.STEP_SUCCESS, E.STEP_FAILURE):
                        begun = step_start.get(event.step_key or "")
                        if begun is not None:
                            steps += entry.timestamp - begun
                times["steps"] = steps
                runs.append(times)
    finally:
        if previous is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = previous
    return runs


def rounded_median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


STAGES = ("sensor_wait", "queue_wait", "launch", "execution", "steps", "run_total")


def breakdown(
    runs: list[dict[str, Any]], landed: dict[str, float], names: set[str]
) -> dict[str, float | None]:
    """Medians over the files ``names`` of each stage: landing -> run created
    (sensor), created -> launched (queue), launched -> worker started (a new process
    imports Dagster and the code location), started -> finished (execution), the
    steps' own time, and launched -> finished."""
    parts: dict[str, list[float]] = {key: [] for key in STAGES}
    for t in runs:
        name = t.get("file")
        if name not in names or not {"created", "starting", "start", "end"} <= set(t):
            continue
        parts["sensor_wait"].append(t["created"] - landed[name])
        parts["queue_wait"].append(t["starting"] - t["created"])
        parts["launch"].append(t["start"] - t["starting"])
        parts["execution"].append(t["end"] - t["start"])
        parts["steps"].append(t["steps"])
        parts["run_total"].append(t["end"] - t["starting"])
    return {key: rounded_median(values) for key, values in parts.items()}


def other_runs(
    runs: list[dict[str, Any]], since: float, until: float
) -> dict[str, dict[str, Any]]:
    """Runs of other jobs that held a run slot between ``since`` and ``until``."""
    found: dict[str, dict[str, Any]] = {}
    for t in runs:
        if t["job"] == "ingest_manifest" or "starting" not in t:
            continue
        end = t.get("end", until)
        if t["starting"] > until or end < since:
            continue
        entry = found.setdefault(t["job"], {"runs": 0, "slot_seconds": 0.0})
        entry["runs"] += 1
        entry["slot_seconds"] += min(end, until) - max(t["starting"], since)
    for entry in found.values():
        entry["slot_seconds"] = round(entry["slot_seconds"], 1)
    return found
