"""Alembic migrations: the schema, its views and functions, and the seeded rows."""
