"""Database access: the engine, the embedded server and the typed models."""

from smartcrop.db.engine import (
    database_url,
    get_engine,
    libpq_url,
    make_engine,
    normalise_url,
    session_scope,
)

__all__ = [
    "database_url",
    "get_engine",
    "libpq_url",
    "make_engine",
    "normalise_url",
    "session_scope",
]
