"""Locks on work items: who holds what, expiry, and releasing.

A lock is ``currentstate = LOCKED`` with ``lockedby``/``lockedat``. It lasts
``smartcrop_service.lock_timeout_minutes``; after that it is treated as free: a claim
takes over the expired locks of the programme it picks in its own statement (with the
``expire`` audit row a release would write; see ``claims``), the periodic job
(``pipelines/maintenance.py``) calls :func:`release_expired_locks` for the rest, and
writes by the former holder are refused (409) even before the lock has been released,
so an expired lock never lets two users write.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from smartcrop.errors import Conflict, NotFound
from smartcrop.workflow.states import (
    LOCKED,
    RELEASE_BY_STATUS,
    WorkState,
    apply_move,
)

# Expired locks of this status: SKIP LOCKED, so concurrent claims each release the
# ones nobody else is releasing instead of queueing behind each other.
_EXPIRED = f"""old AS (
    SELECT id, lockedby FROM smartcrop_programimage
    WHERE currentstate = {LOCKED} AND status = :status
      AND lockedat < now() - make_interval(mins => CAST(:minutes AS integer))
    ORDER BY id
    FOR UPDATE SKIP LOCKED
)"""  # noqa: S608 - only the state constants are put in

_OF_USER = f"""old AS (
    SELECT id, lockedby FROM smartcrop_programimage
    WHERE currentstate = {LOCKED} AND status = :status AND lockedby = :user
    ORDER BY id
    FOR UPDATE
)"""  # noqa: S608 - only the state constants are put in


def release_expired_locks(session: Session, timeout_minutes: int) -> int:
    """Release every lock older than ``timeout_minutes``; returns how many rows.

    Each row goes back to the queue it was claimed from, with an audit row
    (action ``expire``, no user, the former holder in ``details``).
    """
    released = 0
    for status, move in RELEASE_BY_STATUS.items():
        released += len(
            apply_move(
                session,
                move,
                _EXPIRED,
                {"status": status, "minutes": timeout_minutes},
                owner_id=None,
                actor_id=None,
                action="expire",
            )
        )
    return released


def release_user_locks(session: Session, user_id: int, actor_id: int) -> int:
    """Release every lock ``user_id`` holds: (1,1)->(1,0) and (2,1)->(2,0).

    ``actor_id`` is who asked: the holder themself (action ``release``) or an admin
    (``admin_release``).
    """
    action = "release" if actor_id == user_id else "admin_release"
    released = 0
    for status, move in RELEASE_BY_STATUS.items():
        released += len(
            apply_move(
                session,
                move,
                _OF_USER,
                {"status": status, "user": user_id},
                owner_id=None,
                actor_id=actor_id,
                action=action,
            )
        )
    return released


@dataclass(frozen=True)
class LockedRow:
    """A work item as read under a row lock, with whether its lock has expired."""

    id: int
    program_id: str
    provider_name: str
    status: int
    state: int
    locked_by: int | None
    expired: bool
    width: int | None
    height: int | None

    @property
    def work_state(self) -> WorkState:
        return WorkState(self.status, self.state)

    def held_by(self, user_id: int) -> bool:
        return self.state == LOCKED and self.locked_by == user_id and not self.expired


_LOCK_ROWS = """
    SELECT id, link_object_id, providername, status, currentstate, lockedby,
           coalesce(lockedat < now() - make_interval(mins => CAST(:minutes AS integer)),
                    false),
           width, height
    FROM smartcrop_programimage
    WHERE {where}
    ORDER BY id
    FOR UPDATE
"""


def lock_rows_by_id(
    session: Session, image_ids: Iterable[int], timeout_minutes: int
) -> dict[int, LockedRow]:
    """Row-lock these work items (in id order, so writers never deadlock)."""
    rows = session.execute(
        text(_LOCK_ROWS.format(where="id = ANY(:ids)")),
        {"ids": sorted(set(image_ids)), "minutes": timeout_minutes},
    )
    return {row[0]: LockedRow(*row) for row in rows}


def lock_programme_rows(
    session: Session, program_id: str, timeout_minutes: int
) -> list[LockedRow]:
    """Row-lock every work item of a programme (404 when it has none)."""
    rows = session.execute(
        text(_LOCK_ROWS.format(where="link_object_id = :program_id")),
        {"program_id": program_id, "minutes": timeout_minutes},
    )
    found = [LockedRow(*row) for row in rows]
    if not found:
        raise NotFound(f"there is no programme {program_id}")
    return found


def require_held(row: LockedRow, user_id: int) -> None:
    """Refuse (409) a write to a row the user does not hold a live lock on."""
    if row.held_by(user_id):
        return
    if row.state == LOCKED and row.locked_by == user_id:
        raise Conflict(
            f"your lock on image {row.id} has expired; claim the programme again"
        )
    if row.state == LOCKED:
        raise Conflict(f"image {row.id} is locked by another user")
    raise Conflict(
        f"image {row.id} is not locked by you (it is in state {row.work_state}); "
        "claim it first"
    )
