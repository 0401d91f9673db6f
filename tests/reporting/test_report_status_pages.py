"""The cropped-image report filtered by status (beyond the contract) against its
definition, on random writes of every kind the application makes.

The day summaries count renditions whatever their work item's status, so a filtered
page is counted and read from the renditions (``_filtered_page_query``); here every
page of every size is compared with the plain definition: the rows of
``fncroppedimagereports`` with the status as a WHERE (tests/reporting/test_counts.py
does the same for the unfiltered report, placed from the summaries).
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from smartcrop import reporting
from smartcrop.reporting import cropped_report
from tests.reporting.reference_counts import PROVIDERS, TODAY, World, random_history
from tests.support.work_items import add_item


def full_report(
    session: Session, filters: reporting.ReportFilters
) -> tuple[list[dict[str, Any]], int]:
    """Every row of the report by its definition, the status as a plain WHERE."""
    params = filters.params()
    rows = session.execute(
        text(
            "SELECT * FROM fncroppedimagereports(CAST(:from_date AS date),"
            " CAST(:to_date AS date), CAST(:provider AS text),"
            " CAST(:user_id AS integer)) WHERE status = CAST(:status AS smallint)"
        ),
        params,
    ).mappings()
    items = [cropped_report._report_item(r) for r in rows]
    return items, len(items)


def _filters(users: list[int]) -> list[reporting.ReportFilters]:
    return [
        reporting.ReportFilters(status=1),
        reporting.ReportFilters(status=2),
        reporting.ReportFilters(status=3, provider_name="nbcu"),
        reporting.ReportFilters(status=4, from_date=TODAY - timedelta(days=3)),
        reporting.ReportFilters(status=3, to_date=TODAY - timedelta(days=2)),
        reporting.ReportFilters(status=1, user_id=users[0]),
        reporting.ReportFilters(status=2, provider_name="nobody"),
    ]


def assert_pages_agree(session: Session, users: list[int]) -> None:
    for filters in _filters(users):
        expected, total = full_report(session, filters)
        for size in (1, 3, 7):
            for number in range(1, total // size + 3):
                page = reporting.Paging(number, size)
                got = reporting.cropped_image_report(session, filters, page)
                start = page.offset
                assert got == (expected[start : start + size], total), (filters, page)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(seed=st.integers(0, 2**32 - 1), steps=st.integers(1, 25))
def test_random_writes_keep_the_status_filtered_pages_exact(
    engine: Engine, users: list[int], seed: int, steps: int
) -> None:
    with Session(engine) as session:
        random_history(session, users, seed, steps)
        assert_pages_agree(session, users)
        session.rollback()


def test_a_known_scenario_filtered_by_status(engine: Engine, users: list[int]) -> None:
    for n in range(12):
        add_item(engine, f"SH{n}", provider=PROVIDERS[n % 4])
    with Session(engine) as session:
        world = World(session, users)
        rng = random.Random(11)
        for _ in range(40):
            world.step(rng)
        session.commit()
    with Session(engine) as session:
        per_status = [
            full_report(session, reporting.ReportFilters(status=s))[1]
            for s in (1, 2, 3, 4)
        ]
        assert sum(1 for n in per_status if n) >= 2, per_status  # a real filter
        assert_pages_agree(session, users)
