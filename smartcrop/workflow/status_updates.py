"""UpdateStatus: move every row of a programme the caller holds to one target state.

The target is what the client asked for; whether it may happen is decided per row by
the state machine (``states.check_move``), and an operator's "finished" (2 or 3) by QA
routing. All or nothing: one row that may not move refuses the whole request.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from smartcrop.errors import Conflict, InvalidInput
from smartcrop.workflow.locks import lock_programme_rows
from smartcrop.workflow.save import QaRoute, check_stage, default_qa_route
from smartcrop.workflow.states import (
    LOCKED,
    OPERATOR_QUEUE,
    STATUSES,
    Move,
    WorkState,
    check_move,
    check_reject_reason,
    finishing_target,
    move_rows,
)


def update_status(
    session: Session,
    program_id: str,
    status: int,
    current_state: int,
    *,
    owner_id: int,
    actor_id: int,
    stage_statuses: tuple[int, ...],
    lock_timeout_minutes: int,
    reject_reason_id: int | None = None,
    route: QaRoute = default_qa_route,
) -> list[int]:
    """Returns the ids of the rows moved (those ``owner_id`` held)."""
    program_id = (program_id or "").strip()
    if not program_id:
        raise InvalidInput("programId is required")
    target = WorkState(status, current_state)
    if status not in STATUSES or current_state not in (0, 1):
        raise InvalidInput(
            f"({status},{current_state}) is not a work-item state: status is 1..4 "
            "and currentState 0 or 1"
        )
    rows = lock_programme_rows(session, program_id, lock_timeout_minutes)
    held = [row for row in rows if row.held_by(owner_id)]
    if not held:
        if any(r.state == LOCKED and r.locked_by == owner_id for r in rows):
            raise Conflict(
                f"your lock on programme {program_id} has expired; claim it again"
            )
        raise Conflict(f"you hold no lock on programme {program_id}")
    for row in held:
        check_stage(row, stage_statuses)

    routed: int | None = None
    groups: dict[Move, list[int]] = {}
    for row in held:
        wanted = target
        if row.status == OPERATOR_QUEUE and finishing_target(target):
            if routed is None:
                routed = route(session, program_id)
            wanted = WorkState(routed, target.state)
        move = check_move(row.work_state, wanted, reject_reason_id)
        groups.setdefault(move, []).append(row.id)
    if any(move.needs_reason for move in groups):
        check_reject_reason(session, reject_reason_id)

    moved: list[int] = []
    for move, ids in groups.items():
        moved += move_rows(
            session,
            move,
            ids,
            owner_id=owner_id,
            actor_id=actor_id,
            reject_reason_id=reject_reason_id,
        )
    return sorted(moved)
