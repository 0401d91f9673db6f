"""A throw-away PostgreSQL: the project's embedded server in a temporary folder."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import uuid
from pathlib import Path


class BenchDatabase:
    """The embedded server in a temporary folder, one migrated template, and a fresh
    database cloned from it per measured run (``CREATE DATABASE ... TEMPLATE``)."""

    def __init__(self) -> None:
        from smartcrop.db.embedded import embedded_url  # noqa: PLC0415
        from smartcrop.db.migrate import upgrade  # noqa: PLC0415

        self.root = Path(tempfile.mkdtemp(prefix="smartcrop-bench-pg-"))
        self.data_dir = self.root / "data"
        self.admin_url = embedded_url(self.data_dir)
        self.template = self.create()
        upgrade(self.url_for(self.template))
        self._made: list[str] = []

    # -- URLs ------------------------------------------------------------------
    def url_for(self, name: str) -> str:
        from sqlalchemy import make_url  # noqa: PLC0415

        return (
            make_url(self.admin_url)
            .set(database=name)
            .render_as_string(hide_password=False)
        )

    @staticmethod
    def libpq(url: str) -> str:
        from smartcrop.db import libpq_url  # noqa: PLC0415

        return libpq_url(url)

    def _admin(self, sql: str) -> None:
        import psycopg  # noqa: PLC0415

        with psycopg.connect(self.libpq(self.admin_url), autocommit=True) as conn:
            conn.execute(sql)

    # -- databases ---------------------------------------------------------------
    def create(self, template: str | None = None) -> str:
        name = f"bench_{uuid.uuid4().hex[:12]}"
        clause = f' TEMPLATE "{template}"' if template else ""
        self._admin(f'CREATE DATABASE "{name}"{clause}')
        return name

    def fresh(self, template: str | None = None) -> str:
        """A new database cloned from ``template`` (default: the migrated one)."""
        name = self.create(template or self.template)
        self._made.append(name)
        return self.url_for(name)

    def drop(self, url: str) -> None:
        from sqlalchemy import make_url  # noqa: PLC0415

        name = make_url(url).database
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def server_version(self) -> str:
        import psycopg  # noqa: PLC0415

        with psycopg.connect(self.libpq(self.admin_url)) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "unknown"

    def close(self) -> None:
        from smartcrop.db.embedded import stop_embedded  # noqa: PLC0415

        with contextlib.suppress(Exception):
            stop_embedded(self.data_dir)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> BenchDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
