"""Rebuilding the kept counts: after a bulk load that bypassed them, and with the
``smartcrop recount`` command."""

from __future__ import annotations

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from smartcrop import reporting
from smartcrop.reporting import counts
from tests.reporting.reference_counts import full_totals


def test_recount_rebuilds_counts_left_behind_by_a_bulk_load(engine: Engine) -> None:
    with engine.begin() as conn:
        # A bulk load with triggers off, as the scale benchmark fills its database.
        conn.execute(text("SET session_replication_role = replica"))
        conn.execute(
            text(
                "INSERT INTO smartcrop_programimage (link_object_id, providername,"
                " imageurl, status, rejectreasonid) SELECT 'SH' || g, 'NBCU',"
                " 'u' || g, 1 + g % 4, CASE WHEN g % 4 = 3 THEN 1 END"
                " FROM generate_series(1, 40) g"
            )
        )
    with Session(engine) as session:
        assert reporting.totals(session)["TotalImages"] == 0  # left behind
        assert len(counts.drift(session)) == 4
        done = counts.recount(session)
        session.commit()
        assert (done.work_items, done.renditions) == (40, 0)
        assert counts.drift(session) == []
        assert reporting.totals(session) == full_totals(session)
        assert reporting.totals(session)["Completed"] == 10


def test_smartcrop_recount_command(db_url: str, tmp_path) -> None:
    from tests.support.cli import run

    result = run(["recount"], {"DATABASE__URL": db_url}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "counts rebuilt: 0 work items, 0 renditions" in result.stdout
