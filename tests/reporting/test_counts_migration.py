"""Migration 0004 up, down and up again with data in the tables: every answer stays the
same."""

from __future__ import annotations

import random

from sqlalchemy import text
from sqlalchemy.orm import Session

from smartcrop import reporting
from smartcrop.db.migrate import alembic_config
from smartcrop.reporting import counts
from tests.reporting.reference_counts import (
    World,
    assert_all_agree,
    full_providers,
    full_report,
    full_totals,
    provider_page,
    report_filters,
)
from tests.support.work_items import add_user


def test_migration_up_down_up_with_data_keeps_every_answer(
    empty_db_url: str,
) -> None:
    from alembic import command
    from sqlalchemy import create_engine

    config = alembic_config(empty_db_url)
    command.upgrade(config, "0003")
    engine = create_engine(empty_db_url)
    try:
        users = [add_user(engine, "operator") for _ in range(3)]
        with Session(engine) as session:
            world = World(session, users)
            rng = random.Random(11)
            world.add_items(rng, 20)
            for _ in range(30):
                world.step(rng)
            session.commit()
            before = full_totals(session), full_providers(session)
            spellings = full_providers(session, one_line_per_spelling=True)
            before_report = full_report(
                session, reporting.ReportFilters(), reporting.Paging(1, 500)
            )
        command.upgrade(config, "0004")
        with Session(engine) as session:
            assert reporting.totals(session) == before[0]
            assert provider_page(session) == spellings
            assert counts.drift(session) == []
            assert_all_agree(session, report_filters(users), one_line_per_spelling=True)
            assert (
                reporting.cropped_image_report(
                    session, reporting.ReportFilters(), reporting.Paging(1, 500)
                )
                == before_report
            )
        command.upgrade(config, "0006")
        command.downgrade(config, "0004")  # 0006's downgrade restores 0004's list
        with Session(engine) as session:
            assert provider_page(session) == spellings
        command.downgrade(config, "0003")
        with Session(engine) as session:
            assert (full_totals(session), full_providers(session)) == before
            row = session.execute(text("SELECT * FROM view_smartcrop_total")).one()
            assert row.totalimages == before[0]["TotalImages"]
            assert (
                session.scalar(text("SELECT to_regclass('smartcrop_workitem_counts')"))
                is None
            )
        command.upgrade(config, "head")
        with Session(engine) as session:
            assert counts.drift(session) == []
            assert (reporting.totals(session), provider_page(session)) == before
    finally:
        engine.dispose()
