"""Fixtures of the reporting tests."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.support.work_items import add_user

# The reference answers assert: show their failures as in a test.
pytest.register_assert_rewrite("tests.reporting.reference_counts")


@pytest.fixture
def engine(db_url: str):
    from tests.support.work_items import engine_for

    with engine_for(db_url) as engine:
        yield engine


@pytest.fixture
def users(engine: Engine) -> list[int]:
    """Three operators of the test's own database (made once per test, so once for
    all of a property test's examples)."""
    return [add_user(engine, "operator") for _ in range(3)]
