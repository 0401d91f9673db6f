"""Fixtures for real parts: PostgreSQL, S3 (moto server), SFTP, Dagster, the API."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Tests never read a developer's config.yml: each builds the settings it needs.
os.environ["SMARTCROP_CONFIG"] = str(Path(__file__).parent / "config.test.yml")

# The helpers in tests/support assert too: show their failures as in a test.
pytest.register_assert_rewrite("tests.support")

from tests.support.postgres import (  # noqa: E402
    PostgresServer,
    fresh_database,
    migrated_template,
    start_server,
)

pytest_plugins = [
    "tests.support.fixtures_transfer",
    "tests.support.pipelines",
    "tests.support.api",
    "tests.support.dagster_web",
    "tests.support.image_server",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLES = REPO_ROOT / "samples" / "manifests"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    server, _ = start_server()
    yield server


@pytest.fixture(scope="session")
def pg_template(pg_server: PostgresServer) -> Iterator[str]:
    name = migrated_template(pg_server)
    yield name
    pg_server.drop_database(name)


@pytest.fixture
def db_url(pg_server: PostgresServer, pg_template: str) -> Iterator[str]:
    """A fresh, migrated database of its own for one test (SQLAlchemy URL)."""
    yield from fresh_database(pg_server, pg_template)


@pytest.fixture
def empty_db_url(pg_server: PostgresServer) -> Iterator[str]:
    """A database with nothing in it, not even the migrations."""
    name = pg_server.create_database()
    yield pg_server.url_for(name)
    pg_server.drop_database(name)


@pytest.fixture
def settings_for(tmp_path: Path):
    """Build Settings for a test: folders under tmp_path, the given database."""
    from smartcrop.settings import load_settings

    def build(db_url: str = "", **sections: object):
        base = {
            "database": {"url": db_url, "embedded_dir": str(tmp_path / "pgdata")},
            "processing_middleware": {
                "local_filesystem": {
                    "root_path": str(tmp_path / "staging"),
                    "quarantine_path": str(tmp_path / "quarantine"),
                    "work_dir": str(tmp_path / "work"),
                }
            },
            "smartcrop_service": {
                "storage": {"local_root": str(tmp_path / "renditions")},
                "auth": {"secret_file": str(tmp_path / "jwt_secret")},
            },
            "smartcrop_filewatcher_batchjob": {
                "output_dir": str(tmp_path / "outbound")
            },
            "smartcrop_dumpdata": {"local_path": str(tmp_path / "dumps")},
        }
        return load_settings(**_deep_merge(base, sections))

    return build


def _deep_merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
