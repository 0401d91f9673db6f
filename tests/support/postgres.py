"""Real PostgreSQL for the tests: one server per test process, one database per test.

The server is the one named by ``DATABASE__URL`` when that is set (the databases the
tests make are created on it and dropped after), else an embedded server of our own in
a temporary folder, exactly as ``smartcrop`` starts one when no URL is configured.
Each test gets a fresh database cloned from a migrated template, so tests can run in
parallel (pytest-xdist) and never see each other's rows.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
from sqlalchemy import make_url

from smartcrop.db import libpq_url, normalise_url
from smartcrop.db.embedded import embedded_url
from smartcrop.db.migrate import upgrade

# Read once at import, then removed from the environment: code under test must get its
# database from the fixtures, never from a developer's shell.
SERVER_URL_FROM_ENV = os.environ.pop("DATABASE__URL", "") or None


class PostgresServer:
    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url  # SQLAlchemy URL of a maintenance database

    def url_for(self, name: str) -> str:
        return (
            make_url(self.admin_url)
            .set(database=name)
            .render_as_string(hide_password=False)
        )

    def _admin(self, sql: str) -> None:
        with psycopg.connect(libpq_url(self.admin_url), autocommit=True) as conn:
            conn.execute(sql)

    def create_database(self, template: str | None = None) -> str:
        name = f"smartcrop_t_{uuid.uuid4().hex[:12]}"
        clause = f' TEMPLATE "{template}"' if template else ""
        self._admin(f'CREATE DATABASE "{name}"{clause}')
        return name

    def drop_database(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_server() -> tuple[PostgresServer, Path | None]:
    if SERVER_URL_FROM_ENV:
        return PostgresServer(normalise_url(SERVER_URL_FROM_ENV)), None
    data_dir = Path(tempfile.mkdtemp(prefix="smartcrop-pg-")) / "data"
    return PostgresServer(embedded_url(data_dir)), data_dir


def migrated_template(server: PostgresServer) -> str:
    name = server.create_database()
    upgrade(server.url_for(name))
    return name


def fresh_database(server: PostgresServer, template: str) -> Iterator[str]:
    name = server.create_database(template)
    try:
        yield server.url_for(name)
    finally:
        server.drop_database(name)
