"""The ingestion tests' database connection (autocommit: the domain opens its own
transactions)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from smartcrop.db import libpq_url


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(libpq_url(db_url), autocommit=True) as connection:
        yield connection
