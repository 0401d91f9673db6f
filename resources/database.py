"""The SmartCrop database as a Dagster resource."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from dagster import ConfigurableResource
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from smartcrop.db import bulk_connection, database_url, get_engine, session_scope
from smartcrop.settings import load_settings


class DatabaseResource(ConfigurableResource["DatabaseResource"]):
    """PostgreSQL for the assets: ``url`` when given, else the settings' database
    (``database.url``, or the embedded server)."""

    url: str = ""

    def resolved_url(self) -> str:
        from smartcrop.db import normalise_url  # noqa: PLC0415

        return normalise_url(self.url) if self.url else database_url(load_settings())

    def engine(self) -> Engine:
        return get_engine(self.resolved_url())

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.resolved_url()) as session:
            yield session

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A psycopg connection in autocommit mode, from the engine's pool (the
        database access rules: docs/architecture.md); the domain opens transactions."""
        with bulk_connection(self.engine(), autocommit=True) as conn:
            yield conn
