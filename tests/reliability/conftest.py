"""Fixtures for the fault tests: a PostgreSQL server of the test's own, to restart."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import make_url

from smartcrop.db import embedded, libpq_url
from smartcrop.db.migrate import upgrade


@dataclass
class OwnPostgres:
    """An embedded PostgreSQL in a tmp folder that a test may stop and start.

    Stopping is ``pg_ctl stop`` (``-m immediate`` is a crash: no checkpoint, clients
    cut off at once); starting is what the embedded-server package itself runs, on the
    same socket, so the URL stays valid across restarts.
    """

    data_dir: Path
    admin_url: str

    def url_for(self, name: str) -> str:
        return self.admin_url.replace("/postgres?", f"/{name}?")

    def create_migrated_database(self) -> str:
        name = f"restart_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(libpq_url(self.admin_url), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = self.url_for(name)
        upgrade(url)
        return url

    def _pg_ctl(self, args: list[str]) -> None:
        embedded.pg_ctl(self.data_dir, args)

    def stop(self, mode: str = "immediate") -> None:
        self._pg_ctl(["-w", "-m", mode, "stop"])

    def start(self) -> None:
        socket_dir = make_url(self.admin_url).query["host"]
        log = str(self.data_dir / "log")
        self._pg_ctl(
            ["-w", "-o", '-h ""', "-o", f"-k {socket_dir}", "-l", log, "start"]
        )

    def running(self) -> bool:
        try:
            with psycopg.connect(libpq_url(self.admin_url), connect_timeout=2) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.OperationalError:
            return False


@pytest.fixture
def own_pg(tmp_path: Path) -> Iterator[OwnPostgres]:
    data_dir = (tmp_path / "own-pg").resolve()
    url = embedded.embedded_url(data_dir)
    server = OwnPostgres(data_dir, url)
    yield server
    if not server.running():
        with contextlib.suppress(Exception):
            server.start()
    with contextlib.suppress(Exception):
        embedded.stop_embedded(data_dir)
    # The package's cleanup does not know a postmaster that pg_ctl started again after
    # a crash (it left one running after every run of these tests): stop it here.
    if server.running():
        with contextlib.suppress(Exception):
            server.stop("fast")
