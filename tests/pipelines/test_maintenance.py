"""Expired locks are released by the scheduled job, without any request."""

from __future__ import annotations

from sqlalchemy import create_engine

from tests.support.work_items import add_item, add_user, age_locks, audit_rows, states


def test_the_job_releases_only_expired_locks_with_audit_rows(pipeline) -> None:
    engine = create_engine(pipeline.db_url)
    try:
        operator = add_user(engine, "operator")
        old = add_item(engine, "SH1", status=1, state=1, locked_by=operator)
        fresh = add_item(engine, "SH2", status=1, state=1, locked_by=operator)
        reviewing = add_item(engine, "SH3", status=2, state=1, locked_by=operator)
        age_locks(engine, 45, old, reviewing)  # past the 30-minute default

        defs = pipeline.definitions()
        job = defs.resolve_job_def("release_expired_locks_job")
        result = job.execute_in_process(instance=pipeline.instance)
        assert result.success
        assert result.output_for_node("release_expired_locks_op") == 2
        assert states(engine, old, fresh, reviewing) == [
            (1, 0, None),
            (1, 1, operator),
            (2, 0, None),
        ]
        assert [r["action"] for r in audit_rows(engine, old)][-1] == "expire"
        schedule = defs.resolve_schedule_def("release_expired_locks_schedule")
        assert schedule.cron_schedule == "*/5 * * * *"
    finally:
        engine.dispose()
