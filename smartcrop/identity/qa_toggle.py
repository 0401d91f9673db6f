"""The QA toggle: review switched off for everyone, or on again."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcrop.db.models import AppSettings, ProgramImage
from smartcrop.errors import Conflict
from smartcrop.workflow.states import LOCKED, QA_QUEUE


def qc_disabled(session: Session) -> bool:
    return bool(
        session.scalar(select(AppSettings.qcdisabled).where(AppSettings.id == 1))
    )


def set_qc_disabled(session: Session, disabled: bool, actor_id: int) -> bool:
    """Switch QA off (refused while a QA user holds a lock) or on again."""
    # Locking the one settings row serialises concurrent toggles.
    row = session.scalar(
        select(AppSettings).where(AppSettings.id == 1).with_for_update()
    )
    if row is None:  # the migration seeds it; a hand-edited database may not have it
        row = AppSettings(id=1, qcdisabled=False)
        session.add(row)
    if disabled:
        locked_in_qa = session.scalar(
            select(func.count(ProgramImage.id)).where(
                ProgramImage.status == QA_QUEUE, ProgramImage.currentstate == LOCKED
            )
        )
        if locked_in_qa:
            raise Conflict(
                f"cannot disable QA while {locked_in_qa} image(s) are being reviewed; "
                "wait until QA finishes or release their locks"
            )
    row.qcdisabled = disabled
    row.updatedby = actor_id
    row.updatedat = func.now()
    session.flush()
    return disabled
