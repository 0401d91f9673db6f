"""Engines and sessions for the project's own code (psycopg 3)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Engine, create_engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from smartcrop.db.embedded import embedded_url
from smartcrop.settings import Settings


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
