"""Housekeeping jobs: releasing expired work-item locks without any request.

Claims already treat an expired lock as free, and writes refuse it; this job puts the
rows back in their queue (with ``expire`` audit rows) so that dashboards and the
dumps show them as free, even when nobody claims for a while.
"""

# No `from __future__ import annotations` here: Dagster reads op annotations at
# run time to find their resources.
from dagster import (
    DefaultScheduleStatus,
    OpExecutionContext,
    ScheduleDefinition,
    in_process_executor,
    job,
    op,
)

from resources import DatabaseResource, SettingsResource
from smartcrop.workflow.locks import release_expired_locks


@op(description="Release every lock older than lock_timeout_minutes.")
def release_expired_locks_op(
    context: OpExecutionContext, database: DatabaseResource, settings: SettingsResource
) -> int:
    timeout = settings.load().smartcrop_service.lock_timeout_minutes
    with database.session() as session:
        released = release_expired_locks(session, timeout)
    context.log.info(f"released {released} expired lock(s) (timeout {timeout} min)")
    return released


@job(executor_def=in_process_executor, description="Release expired claims.")
def release_expired_locks_job() -> None:
    release_expired_locks_op()


release_expired_locks_schedule = ScheduleDefinition(
    name="release_expired_locks_schedule",
    job=release_expired_locks_job,
    cron_schedule="*/5 * * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Every five minutes: expired locks go back to their queue.",
)
