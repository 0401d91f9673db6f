"""The counts kept beside the base tables, rebuilt and checked.

Every write to the work items and renditions keeps ``smartcrop_workitem_counts`` and
``smartcrop_report_days`` up to date in its own transaction (the triggers of
migration 0004, which also hold the one definition of each count). A write that
bypasses the triggers (a restore of some tables only, a bulk load with triggers off,
as the scale benchmark does) leaves them behind: :func:`recount` rebuilds them, and
:func:`drift` names every key where they differ from a full count.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Recounted:
    work_items: int
    renditions: int


@dataclass(frozen=True)
class Drift:
    summary: str  # "workitems" or "report_days"
    key: str
    kept: int
    counted: int


def recount(session: Session) -> Recounted:
    """Rebuild both summaries from the base tables (writers wait meanwhile)."""
    row = session.execute(text("SELECT * FROM smartcrop_recount()")).one()
    return Recounted(int(row.workitems_total), int(row.renditions_total))


def drift(session: Session) -> list[Drift]:
    """Every key where a summary differs from a full count; empty when all agree."""
    rows = session.execute(text("SELECT * FROM smartcrop_count_drift()"))
    return [Drift(r.summary, r.key, int(r.kept), int(r.counted)) for r in rows]
