"""Formula injection in the CSV files we write.

A spreadsheet opening a CSV runs a cell that starts with ``=``, ``+``, ``-`` or ``@``
(and, in some, a TAB or CR before one of them) as a formula: ``=HYPERLINK(...)`` in
a provider's programme title would leak data from the reader's machine. Such a text
is written with a single quote in front (OWASP's advice: spreadsheets then show the
text and never run it; a program reading the CSV can strip the quote). Only text
columns are touched: numbers, dates and booleans cannot hold a formula.

The rewrite happens in the SELECT, so the CSV is still written by PostgreSQL's COPY.
"""

from __future__ import annotations

import psycopg
from psycopg import sql
from psycopg.abc import Params

# The first characters that make a spreadsheet read a cell as a formula.
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

# text, varchar, bpchar, name: the types a formula can hide in.
_TEXT_OIDS = frozenset({25, 1043, 1042, 19})

_FIRSTS = ", ".join("'" + c.replace("'", "''") + "'" for c in TRIGGERS)


def neutralised(expression: str) -> str:
    """SQL for ``expression`` (a text value) with a formula neutralised."""
    return (
        f"CASE WHEN left({expression}, 1) IN ({_FIRSTS})"
        f" THEN '''' || {expression} ELSE {expression} END"
    )


def neutralised_query(
    cur: psycopg.Cursor, query: str, params: Params | None = None
) -> str:
    """``query`` wrapped so that its text columns are neutralised, same column names
    and order. The columns are read from the query's own result description, so the
    views behind a query can change without this list going stale."""
    cur.execute(f"SELECT * FROM ({query}) AS q LIMIT 0", params)  # noqa: S608
    columns = []
    for column in cur.description or ():
        name = sql.Identifier(column.name).as_string(cur)
        if column.type_code in _TEXT_OIDS:
            columns.append(f"{neutralised('q.' + name)} AS {name}")
        else:
            columns.append(f"q.{name}")
    # Ordering is the inner query's: a plain projection of a subquery keeps it.
    return f"SELECT {', '.join(columns)} FROM ({query}) AS q"  # noqa: S608
