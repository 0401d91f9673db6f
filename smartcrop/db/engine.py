"""Engines and sessions for the project's own code (psycopg 3).

One engine per database serves every kind of access (docs/architecture.md, "Database
access"): ORM and SQL sessions, and the psycopg connections of bulk work
(:func:`bulk_connection`), which come from the same pool with the same settings.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg
from sqlalchemy import Engine, PoolProxiedConnection, create_engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from smartcrop.db.embedded import embedded_url
from smartcrop.settings import Settings

log = logging.getLogger(__name__)


def normalise_url(url: str) -> str:
    """Any PostgreSQL URL as a SQLAlchemy URL on the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.get_backend_name() not in ("postgresql", "postgres"):
        raise ValueError(
            f"database.url must be a PostgreSQL URL, not {parsed.get_backend_name()!r}"
        )
    return parsed.set(drivername="postgresql+psycopg").render_as_string(
        hide_password=False
    )


def database_url(settings: Settings) -> str:
    """The URL in use: ``database.url``, or the embedded server's (started here)."""
    configured = settings.database.url.get_secret_value().strip()
    if configured:
        return normalise_url(configured)
    return embedded_url(settings.database.embedded_dir)


def libpq_url(url: str) -> str:
    """The same URL for libpq tools and psycopg.connect (no SQLAlchemy driver part)."""
    return (
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    )


def make_engine(url: str) -> Engine:
    """An engine that survives database restarts and fails fast when it is down."""
    # pool_pre_ping: a pooled connection killed by a restart is replaced instead of
    # failing the next request; connect_timeout keeps /health and requests quick to
    # answer 503 while the database is unreachable.
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        connect_args={"connect_timeout": 5},
    )


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    """The process-wide engine for a URL (Dagster resources, the CLI)."""
    return make_engine(url)


@lru_cache(maxsize=8)
def _session_factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(get_engine(url), expire_on_commit=False)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session committed on success and rolled back on any error."""
    session = _session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def bulk_connection(
    engine: Engine, *, autocommit: bool = False
) -> Iterator[psycopg.Connection[Any]]:
    """A psycopg connection from ``engine``'s pool, for what only psycopg does well:
    ``COPY`` in and out, and streaming server-side cursors.

    It behaves as ``with psycopg.connect(...) as conn`` did: the block's transaction
    is committed when the block ends and rolled back when it raises (with
    ``autocommit``, every statement commits on its own). The connection then goes
    back to the pool as SQLAlchemy expects it: out of autocommit, no transaction
    open. One that broke under the block (the server restarted, say) is dropped from
    the pool instead, so the next checkout gets a fresh one.
    """
    pooled = engine.raw_connection()
    conn = pooled.driver_connection
    if not isinstance(conn, psycopg.Connection):
        pooled.close()
        raise TypeError(f"{engine.url.drivername} is not the psycopg 3 driver")
    try:
        conn.autocommit = autocommit
        try:
            yield conn
        except BaseException:
            try:
                conn.rollback()
            except psycopg.Error as exc:
                # As psycopg's own context manager: the block's error is the one
                # that matters; the connection is dropped below.
                log.warning("error ignored in rollback: %s", exc)
            raise
        conn.commit()
    finally:
        _give_back(pooled, conn)


def _give_back(pooled: PoolProxiedConnection, conn: psycopg.Connection[Any]) -> None:
    try:
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.rollback()  # an explicit BEGIN left open in autocommit mode
        conn.autocommit = False
    except psycopg.Error:
        pooled.invalidate()  # closes it and frees its place in the pool
        return
    pooled.close()
