"""Schedules: the nightly manifest and the nightly dump, on the settings' cron (UTC).

RUNNING by default, so the daemon that ``make up`` starts runs them without anyone
turning them on; each can be stopped and started again from the UI (Automation).
"""

# No `from __future__ import annotations` here: Dagster inspects schedule
# definitions at run time.
from dagster import (
    DagsterInvalidDefinitionError,
    DefaultScheduleStatus,
    ScheduleDefinition,
)

from pipelines.jobs import dump_snapshots_job, nightly_manifest_job
from smartcrop.settings import Settings, SettingsError


def _schedule(
    name: str, job_name: str, cron: str, key: str, description: str
) -> ScheduleDefinition:
    # The job by name (it is among the definitions' jobs): an asset job's own type
    # is not in Dagster's public API.
    try:
        return ScheduleDefinition(
            name=name,
            job_name=job_name,
            cron_schedule=cron,
            execution_timezone="UTC",
            default_status=DefaultScheduleStatus.RUNNING,
            description=description,
        )
    except DagsterInvalidDefinitionError:
        # Name the key to fix, as every other settings error does.
        raise SettingsError(f"{key}: {cron!r} is not a valid cron schedule") from None


def build_schedules(settings: Settings) -> list[ScheduleDefinition]:
    return [
        _schedule(
            "nightly_manifest_schedule",
            nightly_manifest_job.name,
            settings.smartcrop_filewatcher_batchjob.schedule,
            "smartcrop_filewatcher_batchjob.schedule",
            "The nightly manifest (smartcrop_filewatcher_batchjob.schedule, UTC).",
        ),
        _schedule(
            "dump_snapshots_schedule",
            dump_snapshots_job.name,
            settings.smartcrop_dumpdata.schedule,
            "smartcrop_dumpdata.schedule",
            "The nightly dump of the last smartcrop_dumpdata.date_range days "
            "(smartcrop_dumpdata.schedule, UTC).",
        ),
    ]
