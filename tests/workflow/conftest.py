"""Fixtures of the workflow tests: an engine on the test's own database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from tests.support.work_items import engine_for


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    with engine_for(db_url) as engine:
        yield engine
