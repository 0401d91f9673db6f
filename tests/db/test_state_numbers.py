"""The schema's state numbers are ``workflow/states.py``'s.

The models render their checks, partial-index predicates and defaults from the named
states; the migrations wrote the same numbers as literals, and history does not
change. Alembic's comparison (``test_migrations``) reads neither check constraints
nor index predicates, so this test has PostgreSQL normalise both: the model's clauses
are put on an empty copy of each table and compared with the migrated table's.
"""

from __future__ import annotations

import pytest
from sqlalchemy import CheckConstraint, Connection, Table, create_engine, pool

from smartcrop.db.models import ProgramImage, Role, Rule

TABLES = [ProgramImage.__table__, Role.__table__, Rule.__table__]

# What PostgreSQL made of a table's checks, partial-index predicates and defaults.
_CHECKS = """
SELECT pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = CAST(%(table)s AS regclass) AND contype = 'c'
"""
_PREDICATES = """
SELECT pg_get_expr(indpred, indrelid) FROM pg_index
WHERE indrelid = CAST(%(table)s AS regclass) AND indpred IS NOT NULL
"""
_DEFAULTS = """
SELECT a.attname, pg_get_expr(d.adbin, d.adrelid)
FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
WHERE d.adrelid = CAST(%(table)s AS regclass) AND a.attname = ANY(%(columns)s)
"""


def _definitions(conn: Connection, table: str, columns: list[str]) -> dict[str, set]:
    def rows(sql: str) -> set:
        return set(
            conn.exec_driver_sql(sql, {"table": table, "columns": columns}).all()
        )

    return {
        "checks": rows(_CHECKS),
        "predicates": rows(_PREDICATES),
        "defaults": rows(_DEFAULTS),
    }


@pytest.mark.parametrize("table", TABLES, ids=lambda table: table.name)
def test_the_models_state_clauses_are_the_migrated_ones(
    db_url: str, table: Table
) -> None:
    copy = f"model_{table.name}"
    # The state columns' defaults: the rest are now() and the like, not states.
    columns = [
        column.name
        for column in table.columns
        if column.name in ("status", "currentstate")
        and column.server_default is not None
    ]
    engine = create_engine(db_url, poolclass=pool.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE TEMPORARY TABLE "{copy}" (LIKE {table.name})')
        for constraint in table.constraints:
            if isinstance(constraint, CheckConstraint):
                conn.exec_driver_sql(
                    f'ALTER TABLE "{copy}" ADD CHECK ({constraint.sqltext})'
                )
        for index in table.indexes:
            where = index.dialect_options["postgresql"]["where"]
            if where is not None:
                conn.exec_driver_sql(f'CREATE INDEX ON "{copy}" (id) WHERE {where}')
        for name in columns:
            default = table.columns[name].server_default.arg  # type: ignore[union-attr]
            conn.exec_driver_sql(
                f'ALTER TABLE "{copy}" ALTER COLUMN {name} SET DEFAULT {default}'
            )
        migrated = _definitions(conn, table.name, columns)
        modelled = _definitions(conn, copy, columns)
        conn.rollback()
    engine.dispose()
    assert migrated["checks"]  # the comparison saw something
    assert modelled == migrated
