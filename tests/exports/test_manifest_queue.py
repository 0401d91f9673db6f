"""The manifest queue's statements keep the export-queue index.

``ix_smartcrop_programimage_export_queue`` is partial (``status = 3 AND
outputfilename IS NULL``). The planner uses it only when it can prove at plan time
that a query's predicate implies the index's, so the state is written into the SQL as
a constant from ``workflow/states.py``, never bound as a parameter: these plans would
read the whole table if it were.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, TextClause, text

from smartcrop.db import make_engine
from smartcrop.exports import manifest, manifest_queue

EXPORT_QUEUE_INDEX = "ix_smartcrop_programimage_export_queue"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A database where the queue is a small share of many work items, analysed."""
    engine = make_engine(db_url)
    with engine.begin() as conn:
        # 30,000 work items: 1 in 100 completed and not yet exported, the rest
        # waiting for an operator or exported long ago.
        conn.execute(
            text("""
            INSERT INTO smartcrop_programimage (link_object_id, providername,
                imageurl, status, completedat, outputfilename, createdat)
            SELECT 'SH' || (n / 2), 'NBCU',
                'https://images.example.com/' || n || '.jpg',
                CASE WHEN n % 3 = 0 THEN 1 ELSE 3 END,
                CASE WHEN n % 3 = 0 THEN NULL ELSE now() END,
                CASE WHEN n % 3 = 0 OR n % 100 = 1 THEN NULL ELSE 'old.csv' END,
                now() - make_interval(secs => n)
            FROM generate_series(1, 30000) AS n
            """)
        )
        conn.execute(text("ANALYZE smartcrop_programimage"))
    yield engine
    engine.dispose()


def plan(engine: Engine, statement: TextClause | str, **params: object) -> str:
    sql = statement.text if isinstance(statement, TextClause) else statement
    with engine.connect() as conn:
        return "\n".join(
            row[0] for row in conn.exec_driver_sql(f"EXPLAIN {sql}", params or None)
        )


@pytest.mark.parametrize(
    ("name", "statement"),
    [
        ("pending", manifest_queue._PENDING),
        ("missing image types", manifest_queue._MISSING_TYPES),
        ("missing languages", manifest_queue._MISSING_LANGUAGES),
    ],
)
def test_the_queue_is_read_from_its_partial_index(
    engine: Engine, name: str, statement: TextClause
) -> None:
    assert EXPORT_QUEUE_INDEX in plan(engine, statement), name


def test_the_rows_without_renditions_are_read_from_the_partial_index(
    engine: Engine,
) -> None:
    sql = manifest_queue._WITHOUT_RENDITIONS.text.replace(":limit", "20")
    assert EXPORT_QUEUE_INDEX in plan(engine, sql)


def test_the_batch_is_chosen_from_the_partial_index(engine: Engine) -> None:
    sql = manifest._CHOOSE_BATCH.replace(
        "INSERT INTO smartcrop_manifest_batch (id, renditions)", ""
    ).replace("%(max_rows)s", "NULL")
    assert EXPORT_QUEUE_INDEX in plan(engine, sql)
