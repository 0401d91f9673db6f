"""Database access: the engine, the embedded server and the typed models."""

from smartcrop.db.engine import (
    bulk_connection,
    database_url,
    get_engine,
    libpq_url,
    make_engine,
    normalise_url,
    session_scope,
)

__all__ = [
    "bulk_connection",
    "database_url",
    "get_engine",
    "libpq_url",
    "make_engine",
    "normalise_url",
    "session_scope",
]
