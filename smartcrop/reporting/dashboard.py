"""Dashboard numbers (contract 4.2): the totals and the per-provider table.

Read from ``view_smartcrop_total`` and ``view_smartcrop_providerlist_total``
(migrations 0002 and 0004), which add up counts every write keeps in its own
transaction, so neither grows with the tables.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from smartcrop.reporting.paging import Paging

TOTAL_FIELDS = (
    ("TotalImages", "totalimages"),
    ("PendingOperator", "pendingoperator"),
    ("PendingQA", "pendingqa"),
    ("Completed", "completed"),
    ("Rejected", "rejected"),
    ("Locked", "locked"),
    ("Exported", "exported"),
)

PROVIDER_FIELDS = (
    ("ProviderName", "providername"),
    ("TotalImages", "totalimages"),
    ("PendingOperator", "pendingoperator"),
    ("PendingQA", "pendingqa"),
    ("Completed", "completed"),
    ("Rejected", "rejected"),
)


def totals(session: Session) -> dict[str, int]:
    """The dashboard totals, exact: added up from the counts the moves keep."""
    row = session.execute(text("SELECT * FROM view_smartcrop_total")).mappings().one()
    return {name: int(row[column]) for name, column in TOTAL_FIELDS}


def provider_list(session: Session, paging: Paging) -> tuple[list[dict[str, Any]], int]:
    total = session.scalar(
        text("SELECT count(*) FROM view_smartcrop_providerlist_total")
    )
    rows = session.execute(
        text(
            "SELECT * FROM view_smartcrop_providerlist_total"
            " ORDER BY providername LIMIT :limit OFFSET :offset"
        ),
        {"limit": paging.size, "offset": paging.offset},
    ).mappings()
    items = [{name: row[column] for name, column in PROVIDER_FIELDS} for row in rows]
    return items, int(total or 0)
