"""The work-item state machine (contract section 2): the only code that moves a row.

A work item's state is ``(status, currentstate)``. ``ALLOWED_MOVES`` is the contract's
table; :func:`check_move` decides a requested move whatever the client sent, and
:func:`apply_move` performs moves: one SQL statement that locks the selected rows,
updates them (guarded again by the move's source state, so a wrong selection cannot
move a row from another state) and writes one audit row per moved row.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import text
from sqlalchemy.orm import Session

from smartcrop.errors import Conflict, InvalidInput
from smartcrop.workflow import audit

# status
OPERATOR_QUEUE = 1
QA_QUEUE = 2
COMPLETED = 3
REJECTED = 4
STATUSES = (OPERATOR_QUEUE, QA_QUEUE, COMPLETED, REJECTED)
# currentstate
FREE = 0
LOCKED = 1


class WorkState(NamedTuple):
    status: int
    state: int

    def __str__(self) -> str:
        return f"({self.status},{self.state})"


@dataclass(frozen=True)
class Move:
    source: WorkState
    target: WorkState
    action: str
    needs_reason: bool = False

    @property
    def is_release(self) -> bool:
        return self.source.state == LOCKED and self.target == WorkState(
            self.source.status, FREE
        )


# The states the moves connect, by name (a rejected or completed row is never locked).
OPERATOR_FREE = WorkState(OPERATOR_QUEUE, FREE)
OPERATOR_LOCKED = WorkState(OPERATOR_QUEUE, LOCKED)
QA_FREE = WorkState(QA_QUEUE, FREE)
QA_LOCKED = WorkState(QA_QUEUE, LOCKED)
COMPLETED_FREE = WorkState(COMPLETED, FREE)
REJECTED_FREE = WorkState(REJECTED, FREE)

CLAIM = Move(OPERATOR_FREE, OPERATOR_LOCKED, "claim")
FINISH_TO_QA = Move(OPERATOR_LOCKED, QA_FREE, "finish")
FINISH_COMPLETED = Move(OPERATOR_LOCKED, COMPLETED_FREE, "finish")
OPERATOR_REJECT = Move(OPERATOR_LOCKED, REJECTED_FREE, "reject", needs_reason=True)
QA_CLAIM = Move(QA_FREE, QA_LOCKED, "qa_claim")
APPROVE = Move(QA_LOCKED, COMPLETED_FREE, "approve")
SEND_BACK = Move(QA_LOCKED, OPERATOR_FREE, "send_back", needs_reason=True)
QA_REJECT = Move(QA_LOCKED, REJECTED_FREE, "qa_reject", needs_reason=True)
OPERATOR_RELEASE = Move(OPERATOR_LOCKED, OPERATOR_FREE, "release")
QA_RELEASE = Move(QA_LOCKED, QA_FREE, "release")
# QA disabled: the nightly export completes images waiting in QA first (contract
# section 6). A system move no client may request, so it is not in ALLOWED_MOVES.
QA_SKIPPED = Move(QA_FREE, COMPLETED_FREE, "qa_skipped")

ALLOWED_MOVES: Mapping[tuple[WorkState, WorkState], Move] = {
    (move.source, move.target): move
    for move in (
        CLAIM,
        FINISH_TO_QA,
        FINISH_COMPLETED,
        OPERATOR_REJECT,
        QA_CLAIM,
        APPROVE,
        SEND_BACK,
        QA_REJECT,
        OPERATOR_RELEASE,
        QA_RELEASE,
    )
}

RELEASE_BY_STATUS: Mapping[int, Move] = {
    OPERATOR_QUEUE: OPERATOR_RELEASE,
    QA_QUEUE: QA_RELEASE,
}


def check_move(
    source: WorkState, target: WorkState, reject_reason_id: int | None = None
) -> Move:
    """The allowed move from ``source`` to ``target``, or the refusal.

    An impossible target (status outside 1..4, state outside 0..1) is bad input (400);
    a target the table does not allow from the row's current state is a conflict with
    that state (409); a move that needs a reject reason and has none is bad input.
    """
    if target.status not in STATUSES or target.state not in (FREE, LOCKED):
        raise InvalidInput(
            f"({target.status},{target.state}) is not a work-item state: status is "
            "1..4 and currentState 0 or 1"
        )
    move = ALLOWED_MOVES.get((source, target))
    if move is None:
        raise Conflict(f"a work item cannot move from {source} to {target}")
    if move.needs_reason and reject_reason_id is None:
        raise InvalidInput(
            f"moving a work item from {source} to {target} needs a RejectReasonId"
        )
    return move


# Per-move column stamps. Written here, never built from request values.
_STAMPS: Mapping[str, str] = {
    "finish": "croppedby = :owner, croppedat = now(), rejectreasonid = NULL",
    "reject": "rejectreasonid = :reason",
    "approve": "reviewedby = :owner, reviewedat = now(), rejectreasonid = NULL",
    "send_back": "reviewedby = :owner, reviewedat = now(), rejectreasonid = :reason",
    "qa_reject": "reviewedby = :owner, reviewedat = now(), rejectreasonid = :reason",
}


def _set_clause(move: Move) -> str:
    parts = ["status = :to_status", "currentstate = :to_state", "updatedat = now()"]
    if move.target.state == LOCKED:
        parts += ["lockedby = :owner", "lockedat = now()"]
    else:
        parts += ["lockedby = NULL", "lockedat = NULL"]
    if move.action in _STAMPS:
        parts.append(_STAMPS[move.action])
    if move.target.status == COMPLETED:
        parts += ["completedby = :owner", "completedat = now()"]
    return ", ".join(parts)


class MovedRow(NamedTuple):
    """A row a move changed: its id, its programme, and whether it lacks a size."""

    id: int
    program_id: str
    unsized: bool  # width or height unknown: the source must be read (sources.py)


# An expired lock's row, taken over by a claim, gets this audit row first: the trail
# reads as if the lock had been released (action "expire", no user, the former holder
# in details) and then claimed, exactly as when a separate release ran first.
_TAKEOVER_TRAIL = f"""trail AS (
            SELECT 0 AS step, programimageid, link_object_id,
                CAST(NULL AS integer) AS userid, CAST('expire' AS varchar) AS action,
                fromstatus, CAST({LOCKED} AS smallint) AS fromstate,
                fromstatus AS tostatus, CAST({FREE} AS smallint) AS tostate,
                CAST(NULL AS smallint) AS rejectreasonid,
                jsonb_build_object('lockedby', previousholder) AS details,
                CAST(NULL AS text) AS comment
            FROM moved WHERE previousholder IS NOT NULL
            UNION ALL
            SELECT 1, {audit.AUDIT_COLUMNS} FROM moved
        ),
        audited AS ({audit.insert_from("trail", order_by="step, programimageid")})"""  # noqa: S608 - constants of this package


def apply_move(
    session: Session,
    move: Move,
    selection: str,
    params: Mapping[str, Any] | None = None,
    *,
    owner_id: int | None,
    actor_id: int | None,
    reject_reason_id: int | None = None,
    comment: str | None = None,
    action: str | None = None,
    details: Mapping[str, Any] | None = None,
    take_over_after_minutes: int | None = None,
) -> list[int]:
    """Move the selected rows by ``move``; returns the ids moved, in id order.

    ``selection`` is SQL of one or more CTEs, written in this package, the last named
    ``old`` with columns ``(id, lockedby)``, that selects and row-locks the rows to
    move (its parameters in ``params``). ``owner_id`` is the user the work is done
    for (the new lock holder, the cropper/reviewer stamped on the row); ``actor_id``
    the user who made the request (the audit row's user; None for the system).
    Rows not in ``move.source`` are never touched whatever the selection says.
    ``comment`` (only with a move that needs a reason) goes into each audit row.

    ``take_over_after_minutes`` (claims only: a move from a free to a locked state)
    also moves selected rows of the source status whose lock is older than that, each
    with an ``expire`` audit row before the move's own, in the same statement: a claim
    is never blocked by an expired lock and needs no separate release first.
    """
    return [
        row.id
        for row in apply_move_rows(
            session,
            move,
            selection,
            params,
            owner_id=owner_id,
            actor_id=actor_id,
            reject_reason_id=reject_reason_id,
            comment=comment,
            action=action,
            details=details,
            take_over_after_minutes=take_over_after_minutes,
        )
    ]


def apply_move_rows(
    session: Session,
    move: Move,
    selection: str,
    params: Mapping[str, Any] | None = None,
    *,
    owner_id: int | None,
    actor_id: int | None,
    reject_reason_id: int | None = None,
    comment: str | None = None,
    action: str | None = None,
    details: Mapping[str, Any] | None = None,
    take_over_after_minutes: int | None = None,
) -> list[MovedRow]:
    """:func:`apply_move`, answering each moved row's programme and whether it has
    no size yet (so a claim needs no second read for either)."""
    if move.needs_reason and reject_reason_id is None:
        raise InvalidInput(f"{move.action} needs a RejectReasonId")
    if comment is not None and not move.needs_reason:
        raise InvalidInput(f"a Comment goes with a reject or a send-back, not {move}")
    take_over = take_over_after_minutes is not None
    if take_over and not (move.source.state == FREE and move.target.state == LOCKED):
        raise ValueError(f"only a claim takes over expired locks, not {move.action}")
    if take_over:
        source = f"""p.status = :from_status AND (p.currentstate = :from_state
              OR (p.currentstate = {LOCKED} AND p.lockedat
                  < now() - make_interval(mins => CAST(:take_over AS integer))))"""
        # The lock was (as the audit tells it) released first, so the claim itself
        # takes a free row and names no former holder.
        move_details = "CAST(:details AS jsonb)"
        trail = _TAKEOVER_TRAIL
    else:
        source = "p.status = :from_status AND p.currentstate = :from_state"
        # The previous lock holder goes into the audit details when someone else
        # ends or takes over a lock (expiry, admin release), so the trail says whose
        # it was.
        move_details = """CASE
                     WHEN old.lockedby IS DISTINCT FROM CAST(:actor AS integer)
                          AND old.lockedby IS NOT NULL
                     THEN CAST(:details AS jsonb)
                          || jsonb_build_object('lockedby', old.lockedby)
                     ELSE CAST(:details AS jsonb) END"""
        trail = f"audited AS ({audit.insert_from('moved')})"
    statement = f"""
        WITH {selection},
        moved AS (
            UPDATE smartcrop_programimage p SET {_set_clause(move)}
            FROM old
            WHERE p.id = old.id AND {source}
            RETURNING p.id AS programimageid, p.link_object_id,
                CAST(:actor AS integer) AS userid,
                CAST(:action AS varchar) AS action,
                CAST(:from_status AS smallint) AS fromstatus,
                CAST(:from_state AS smallint) AS fromstate,
                p.status AS tostatus, p.currentstate AS tostate,
                CAST(:reason AS smallint) AS rejectreasonid,
                {move_details} AS details,
                CAST(:comment AS text) AS comment,
                old.lockedby AS previousholder,
                (p.width IS NULL OR p.height IS NULL) AS unsized
        ),
        {trail}
        SELECT programimageid, link_object_id, unsized FROM moved
        ORDER BY programimageid
    """  # noqa: S608 - every interpolated piece is a constant of this package
    extra = dict(details or {})
    if owner_id is not None and actor_id is not None and owner_id != actor_id:
        extra["for_user"] = owner_id  # an admin acting for someone
    values = dict(params or {})
    values.update(
        owner=owner_id,
        actor=actor_id,
        action=action or move.action,
        reason=reject_reason_id if move.needs_reason else None,
        comment=comment,
        from_status=move.source.status,
        from_state=move.source.state,
        to_status=move.target.status,
        to_state=move.target.state,
        details=json.dumps(extra),
    )
    if take_over:
        values["take_over"] = take_over_after_minutes
    return [
        MovedRow(row[0], row[1], row[2])
        for row in session.execute(text(statement), values)
    ]


# These rows by id, all or nothing in SQL: they are row-locked (so what is read is
# their current version), and ``old`` keeps them only when every one of the ids is in
# the move's source state; otherwise the statement moves nothing and writes no audit
# row.
# (``locked`` is read twice, so PostgreSQL materialises it and locks each row once.)
_ALL_BY_IDS = """locked AS (
    SELECT id, lockedby, status, currentstate FROM smartcrop_programimage
    WHERE id = ANY(:ids) ORDER BY id FOR UPDATE
),
old AS (
    SELECT id, lockedby FROM locked
    WHERE (SELECT count(*) FROM locked
           WHERE status = :from_status AND currentstate = :from_state)
          = CAST(:wanted AS integer)
)"""


def move_rows(
    session: Session,
    move: Move,
    image_ids: list[int],
    *,
    owner_id: int | None,
    actor_id: int | None,
    reject_reason_id: int | None = None,
    comment: str | None = None,
) -> list[int]:
    """Move exactly these rows (already locked and checked by the caller).

    All or nothing: if any row is not in the move's source state, nothing moves and
    the move is refused (409), so a stale caller cannot half-move a programme. The
    statement itself decides that (see ``_ALL_BY_IDS``), so a refused move leaves the
    caller's transaction as it was without a savepoint around it.
    """
    wanted = sorted(set(image_ids))
    moved = apply_move(
        session,
        move,
        _ALL_BY_IDS,
        {"ids": wanted, "wanted": len(wanted)},
        owner_id=owner_id,
        actor_id=actor_id,
        reject_reason_id=reject_reason_id,
        comment=comment,
    )
    if moved != wanted:
        raise Conflict(
            f"work items {sorted(set(wanted) - set(moved))} are no longer in "
            f"state {move.source}"
        )
    return moved


def check_reject_reason(session: Session, reject_reason_id: int | None) -> None:
    """Refuse (400) a RejectReasonId that is not in the reject-reason lookup."""
    if reject_reason_id is None:
        return
    known = session.scalar(
        text("SELECT 1 FROM smartcrop_rejectreason_lookup WHERE id = :id"),
        {"id": reject_reason_id},
    )
    if known is None:
        raise InvalidInput(
            f"RejectReasonId {reject_reason_id} is not a reject reason "
            "(see /lookup/GetRejectReasonLookup)"
        )


def finishing_target(requested: WorkState) -> bool:
    """True when an operator's requested target means "finished" (2 or 3, free).

    The client's 2 or 3 is only a wish: QA routing decides which of the two it is.
    """
    return requested.state == FREE and requested.status in (QA_QUEUE, COMPLETED)
