"""Fixtures of the workflow tests: an engine on the test's own database, settings and
the local rendition storage under the test's folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from smartcrop.renditions.storage import LocalStorage
from tests.support.work_items import engine_for


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    with engine_for(db_url) as engine:
        yield engine


@pytest.fixture
def settings(settings_for, tmp_path: Path):
    return settings_for("")


@pytest.fixture
def storage(settings) -> LocalStorage:
    return LocalStorage(settings.smartcrop_service.storage.local_root)
