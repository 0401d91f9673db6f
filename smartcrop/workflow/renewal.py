"""When a lock lapses, and renewing it (``/image/RenewLock``).

A lock lapses ``lock_timeout_minutes`` after ``lockedat`` (``locks``), and a claim
sets ``lockedat`` to its own time. Renewing sets it to the time of the renewal, so
the lock lasts the timeout again from then; it is not a move: no status changes and
no audit row is written. A programme's expiry is that of the earliest row the user
holds of it (after a claim or a renewal every row has the same).

Only the holder renews, and only rows of the stages their role works on. A lock that
has expired but that nobody has taken over or released yet is renewed too: its rows
are still as the holder left them. Every other case is refused with 409 (404 when
the programme does not exist), in words that say what happened: another user took
it over, the lock has ended (released), another user holds it, or the caller never
held it (as a write to a row one does not hold is 409, ``locks.require_held``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from smartcrop.errors import Conflict, InvalidInput
from smartcrop.workflow.locks import LockedRow, lock_programme_rows
from smartcrop.workflow.states import CLAIM, LOCKED, QA_CLAIM


@dataclass(frozen=True)
class Renewed:
    program_id: str
    image_ids: list[int]
    expires_at: datetime


# Only the state constant is interpolated; every value is a parameter.
_RENEW = text(f"""
    WITH renewed AS (
        UPDATE smartcrop_programimage SET lockedat = now()
        WHERE id = ANY(:ids) AND currentstate = {LOCKED} AND lockedby = :user
        RETURNING lockedat
    )
    SELECT min(lockedat) + make_interval(mins => CAST(:minutes AS integer))
    FROM renewed
    """)  # noqa: S608

# Whether the user ever claimed an image of these in one of these stages (for
# themself, or an admin for them).
_CLAIMED_BEFORE = text("""
    SELECT EXISTS (
        SELECT 1 FROM smartcrop_programimage_audit
        WHERE programimageid = ANY(:ids) AND action = ANY(:actions)
          AND coalesce(CAST(details->>'for_user' AS integer), userid) = :user)
    """)
_CLAIM_ACTION = {
    CLAIM.source.status: CLAIM.action,
    QA_CLAIM.source.status: QA_CLAIM.action,
}


def renew_lock(
    session: Session,
    program_id: str,
    user_id: int,
    *,
    stage_statuses: Sequence[int],
    timeout_minutes: int,
) -> Renewed:
    """Extend the user's lock on every row of the programme they hold by the lock
    timeout from now; the new expiry. Does not commit."""
    program_id = (program_id or "").strip()
    if not program_id:
        raise InvalidInput("programId is required")
    rows = lock_programme_rows(session, program_id, timeout_minutes)  # 404 if none
    mine = [
        row.id
        for row in rows
        if row.state == LOCKED
        and row.locked_by == user_id
        and row.status in stage_statuses
    ]
    if not mine:
        raise Conflict(_why_not(session, program_id, rows, user_id, stage_statuses))
    expires: datetime = session.execute(
        _RENEW, {"ids": mine, "user": user_id, "minutes": timeout_minutes}
    ).scalar_one()
    return Renewed(program_id, mine, expires)


def _why_not(
    session: Session,
    program_id: str,
    rows: list[LockedRow],
    user_id: int,
    stage_statuses: Sequence[int],
) -> str:
    taken = any(
        row.state == LOCKED
        and not row.expired
        and row.locked_by != user_id
        and row.status in stage_statuses
        for row in rows
    )
    held_before = session.scalar(
        _CLAIMED_BEFORE,
        {
            "ids": [row.id for row in rows],
            "user": user_id,
            "actions": [_CLAIM_ACTION[s] for s in stage_statuses if s in _CLAIM_ACTION],
        },
    )
    if taken and held_before:
        return (
            f"your lock on programme {program_id} expired and another user has "
            "taken the programme over; its images are theirs now"
        )
    if taken:
        return f"programme {program_id} is locked by another user"
    if held_before:
        return (
            f"your lock on programme {program_id} has ended (expired and released, "
            "or released); claim the programme again"
        )
    return f"you do not hold programme {program_id}; claim it first"
