"""The nightly schedules: the settings' cron in UTC, running by default, toggleable."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dagster import DefaultScheduleStatus, build_schedule_context

from smartcrop.settings import SettingsError

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_defaults_are_the_documented_crons(pipeline) -> None:
    defs = pipeline.definitions()
    manifest = defs.resolve_schedule_def("nightly_manifest_schedule")
    dump = defs.resolve_schedule_def("dump_snapshots_schedule")
    assert (manifest.cron_schedule, dump.cron_schedule) == ("0 2 * * *", "30 2 * * *")


def test_schedules_follow_the_settings_in_utc_and_run_by_default(pipeline) -> None:
    pipeline.configure(
        smartcrop_filewatcher_batchjob={
            **pipeline.config["smartcrop_filewatcher_batchjob"],
            "schedule": "15 3 * * *",
        },
        smartcrop_dumpdata={
            **pipeline.config["smartcrop_dumpdata"],
            "schedule": "45 4 * * 1-5",
        },
    )
    defs = pipeline.definitions()

    manifest = defs.resolve_schedule_def("nightly_manifest_schedule")
    dump = defs.resolve_schedule_def("dump_snapshots_schedule")

    assert (manifest.cron_schedule, manifest.job_name) == (
        "15 3 * * *",
        "nightly_manifest_job",
    )
    assert (dump.cron_schedule, dump.job_name) == ("45 4 * * 1-5", "dump_snapshots_job")
    for schedule in (manifest, dump):
        assert schedule.execution_timezone == "UTC"
        assert schedule.default_status == DefaultScheduleStatus.RUNNING


def test_a_tick_requests_a_run_of_its_job_that_succeeds(pipeline) -> None:
    defs = pipeline.definitions()
    for name, job_name in (
        ("nightly_manifest_schedule", "nightly_manifest_job"),
        ("dump_snapshots_schedule", "dump_snapshots_job"),
    ):
        schedule = defs.resolve_schedule_def(name)
        context = build_schedule_context(
            instance=pipeline.instance,
            scheduled_execution_time=datetime(2026, 11, 27, 2, 0, tzinfo=UTC),
        )
        [request] = schedule.evaluate_tick(context).run_requests or []
        job = defs.resolve_job_def(job_name)
        result = job.execute_in_process(
            run_config=request.run_config or {},
            instance=pipeline.instance,
            tags=request.tags,
        )
        assert result.success, name


def test_an_invalid_cron_names_the_key_to_fix(pipeline) -> None:
    pipeline.configure(
        smartcrop_dumpdata={
            **pipeline.config["smartcrop_dumpdata"],
            "schedule": "every night",
        }
    )
    with pytest.raises(SettingsError, match="smartcrop_dumpdata.schedule"):
        pipeline.definitions()


def _dagster(home: Path, *args: str) -> str:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "schedule", *args],
        cwd=REPO_ROOT,
        env={**os.environ, "DAGSTER_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_the_code_location_shows_both_schedules_and_they_can_be_toggled(
    tmp_path: Path,
) -> None:
    # What the UI and the daemon read: the workspace's code location on an instance.
    listing = _dagster(tmp_path, "list", "-w", "workspace.yaml")
    assert "Schedule: nightly_manifest_schedule [RUNNING]" in listing
    assert "Schedule: dump_snapshots_schedule [RUNNING]" in listing

    _dagster(tmp_path, "stop", "nightly_manifest_schedule", "-w", "workspace.yaml")
    listing = _dagster(tmp_path, "list", "-w", "workspace.yaml")
    assert "Schedule: nightly_manifest_schedule [STOPPED]" in listing
    assert "Schedule: dump_snapshots_schedule [RUNNING]" in listing
