"""The deployment tests' fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.postgres import PostgresServer

# The steps and checks of the topology test assert: show their failures as in a test.
pytest.register_assert_rewrite(
    "tests.deploy.topology_checks", "tests.deploy.topology_steps"
)


@pytest.fixture
def dagster_db(pg_server: PostgresServer) -> Iterator[str]:
    """An empty database for Dagster's storage on the test's PostgreSQL server."""
    name = pg_server.create_database()
    yield pg_server.url_for(name)
    pg_server.drop_database(name)
