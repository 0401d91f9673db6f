"""The audit trail of work-item moves (``smartcrop_programimage_audit``).

Every statement that moves a work item returns, from its UPDATE, one row per moved item
with exactly the audit columns below, and inserts them here in the same statement
(a data-modifying CTE): a move and its audit row cannot be separated, not even by a
crash between two statements. The table is append-only (a trigger refuses UPDATE and
DELETE), so nothing here ever changes or removes a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

AUDIT_COLUMNS = (
    "programimageid, link_object_id, userid, action, fromstatus, fromstate, "
    "tostatus, tostate, rejectreasonid, details, comment"
)


def insert_from(cte: str, order_by: str | None = None) -> str:
    """SQL inserting one audit row per row of ``cte`` (a CTE with AUDIT_COLUMNS).

    ``cte`` is a name written in this package's code, never a value from a request;
    so is ``order_by``, the order in which the rows get their ids (a history reads
    them by id).
    """
    if not cte.isidentifier():
        raise ValueError(f"not a CTE name: {cte!r}")
    insert = f"INSERT INTO smartcrop_programimage_audit ({AUDIT_COLUMNS})"
    select = f"{insert} SELECT {AUDIT_COLUMNS} FROM {cte}"  # noqa: S608 - identifier
    return f"{select} ORDER BY {order_by}" if order_by else select


@dataclass(frozen=True)
class AuditEntry:
    id: int
    image_id: int
    program_id: str
    user_id: int | None
    action: str
    from_status: int | None
    from_state: int | None
    to_status: int
    to_state: int
    reject_reason_id: int | None
    details: dict[str, Any] | None
    comment: str | None
    created_at: datetime


def history(session: Session, image_id: int) -> list[AuditEntry]:
    """Every audit row of one work item, oldest first."""
    rows = session.execute(
        text(
            "SELECT id, programimageid, link_object_id, userid, action, fromstatus,"
            " fromstate, tostatus, tostate, rejectreasonid, details, comment,"
            " createdat"
            " FROM smartcrop_programimage_audit WHERE programimageid = :image_id"
            " ORDER BY id"
        ),
        {"image_id": image_id},
    )
    return [AuditEntry(*row) for row in rows]
