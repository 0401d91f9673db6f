"""Housekeeping jobs: releasing expired work-item locks without any request, and
forgetting logged-out tokens once they have expired.

Claims already treat an expired lock as free, and writes refuse it; this job puts the
rows back in their queue (with ``expire`` audit rows) so that dashboards and the
dumps show them as free, even when nobody claims for a while. A revoked token past
its expiry is refused anyway, so its row is of no more use.
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
from smartcrop.identity.tokens import purge_revoked_tokens
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


@op(description="Forget logged-out tokens past their expiry.")
def purge_revoked_tokens_op(
    context: OpExecutionContext, database: DatabaseResource
) -> int:
    with database.session() as session:
        purged = purge_revoked_tokens(session)
    context.log.info(f"forgot {purged} expired revoked token(s)")
    return purged


@job(
    executor_def=in_process_executor,
    description="Release expired claims; forget expired logged-out tokens.",
)
def release_expired_locks_job() -> None:
    release_expired_locks_op()
    purge_revoked_tokens_op()


release_expired_locks_schedule = ScheduleDefinition(
    name="release_expired_locks_schedule",
    job=release_expired_locks_job,
    cron_schedule="*/5 * * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Every five minutes: expired locks go back to their queue, expired "
    "logged-out tokens are forgotten.",
)
