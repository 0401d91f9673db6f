"""UpdateStatus: move every row of a programme the caller holds to one target state.

The target is what the client asked for; whether it may happen is decided per row by
the state machine (``states.check_move``), and an operator's "finished" (2 or 3) by QA
routing. All or nothing: one row that may not move refuses the whole request.

The legacy frontend never sends a reason with UpdateStatus, so a reject or a send-back
without ``rejectReasonId`` records the reason "Other" (a rejected row must carry one).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from smartcrop.errors import Conflict, InvalidInput
from smartcrop.lookups import REJECT_REASONS
from smartcrop.workflow.comments import clean_comment
from smartcrop.workflow.finishing import FINISHING_MOVES, require_renditions
from smartcrop.workflow.locks import lock_programme_rows
from smartcrop.workflow.save import QaRoute, check_stage, default_qa_route
from smartcrop.workflow.states import (
    FREE,
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

# The reason a reject or send-back through UpdateStatus records when none is given.
DEFAULT_REJECT_REASON_ID = next(r.id for r in REJECT_REASONS if r.title == "Other")


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
    comment: str | None = None,
    required_aspect_ratios: Sequence[str] = (),
    route: QaRoute = default_qa_route,
) -> list[int]:
    """Returns the ids of the rows moved (those ``owner_id`` held).

    ``reject_reason_id`` is used by the moves that need a reason (reject, send
    back); without it they record ``DEFAULT_REJECT_REASON_ID``. ``comment`` goes
    with them too (into their audit rows; any other move refuses one). Finishing or
    approving needs the stored renditions ``finishing.require_renditions`` asks for.
    """
    program_id = (program_id or "").strip()
    if not program_id:
        raise InvalidInput("programId is required")
    comment = clean_comment(comment)
    target = WorkState(status, current_state)
    if status not in STATUSES or current_state not in (FREE, LOCKED):
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

    reason = (
        reject_reason_id if reject_reason_id is not None else DEFAULT_REJECT_REASON_ID
    )
    routed: int | None = None
    groups: dict[Move, list[int]] = {}
    for row in held:
        wanted = target
        if row.status == OPERATOR_QUEUE and finishing_target(target):
            if routed is None:
                routed = route(session, program_id)
            wanted = WorkState(routed, target.state)
        move = check_move(row.work_state, wanted, reason)
        groups.setdefault(move, []).append(row.id)
    if any(move.needs_reason for move in groups):
        check_reject_reason(session, reason)
    elif comment is not None:
        raise InvalidInput("a Comment goes with a reject or a send-back only")
    require_renditions(
        session,
        [i for move, ids in groups.items() if move in FINISHING_MOVES for i in ids],
        required_aspect_ratios=required_aspect_ratios,
    )

    moved: list[int] = []
    for move, ids in groups.items():
        moved += move_rows(
            session,
            move,
            ids,
            owner_id=owner_id,
            actor_id=actor_id,
            reject_reason_id=reason,
            comment=comment if move.needs_reason else None,
        )
    return sorted(moved)
