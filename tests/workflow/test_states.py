"""The state machine: the contract's table, and moves written with their audit rows."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import Engine

from smartcrop.errors import Conflict, InvalidInput
from smartcrop.workflow import states
from smartcrop.workflow.states import WorkState, check_move, move_rows
from tests.support.work_items import add_item, add_user, audit_rows, sessions
from tests.support.work_items import states as read_states

# Contract section 2, written out again on purpose: the table is the spec.
CONTRACT_MOVES = {
    ((1, 0), (1, 1)): "claim",
    ((1, 1), (2, 0)): "finish",
    ((1, 1), (3, 0)): "finish",
    ((1, 1), (4, 0)): "reject",
    ((2, 0), (2, 1)): "qa_claim",
    ((2, 1), (3, 0)): "approve",
    ((2, 1), (1, 0)): "send_back",
    ((2, 1), (4, 0)): "qa_reject",
    ((1, 1), (1, 0)): "release",
    ((2, 1), (2, 0)): "release",
}
NEEDS_REASON = {((1, 1), (4, 0)), ((2, 1), (1, 0)), ((2, 1), (4, 0))}
ALL_STATES = [WorkState(s, c) for s in (1, 2, 3, 4) for c in (0, 1)]


def test_the_table_is_the_contracts_table() -> None:
    table = {
        (tuple(source), tuple(target)): move.action
        for (source, target), move in states.ALLOWED_MOVES.items()
    }
    assert table == CONTRACT_MOVES
    needing = {
        (tuple(m.source), tuple(m.target))
        for m in states.ALLOWED_MOVES.values()
        if m.needs_reason
    }
    assert needing == NEEDS_REASON


@pytest.mark.parametrize(
    ("source", "target"), list(itertools.product(ALL_STATES, ALL_STATES))
)
def test_check_move_allows_exactly_the_table(
    source: WorkState, target: WorkState
) -> None:
    key = (tuple(source), tuple(target))
    if key in CONTRACT_MOVES:
        move = check_move(source, target, reject_reason_id=2)
        assert move.action == CONTRACT_MOVES[key]
        if key in NEEDS_REASON:
            with pytest.raises(InvalidInput, match="RejectReasonId"):
                check_move(source, target, reject_reason_id=None)
    else:
        with pytest.raises(Conflict):
            check_move(source, target, reject_reason_id=2)


@pytest.mark.parametrize("target", [WorkState(0, 0), WorkState(5, 0), WorkState(1, 2)])
def test_an_impossible_state_is_bad_input(target: WorkState) -> None:
    with pytest.raises(InvalidInput, match="not a work-item state"):
        check_move(WorkState(1, 1), target)


def test_a_move_and_its_audit_row_are_written_together(engine: Engine) -> None:
    operator = add_user(engine, "operator")
    image = add_item(engine, "SH1", status=1, state=1, locked_by=operator)
    with sessions(engine).begin() as session:
        move_rows(
            session,
            states.OPERATOR_REJECT,
            [image],
            owner_id=operator,
            actor_id=operator,
            reject_reason_id=3,
        )
    assert read_states(engine, image) == [(4, 0, None)]
    [row] = audit_rows(engine, image)
    assert row == {
        "programimageid": image,
        "link_object_id": "SH1",
        "userid": operator,
        "action": "reject",
        "fromstatus": 1,
        "fromstate": 1,
        "tostatus": 4,
        "tostate": 0,
        "rejectreasonid": 3,
        "details": {},
    }


def test_a_row_not_in_the_source_state_moves_nothing(engine: Engine) -> None:
    operator = add_user(engine, "operator")
    held = add_item(engine, "SH1", status=1, state=1, locked_by=operator)
    free = add_item(engine, "SH1", status=1, state=0)
    with (
        sessions(engine).begin() as session,
        pytest.raises(Conflict, match="no longer in state"),
    ):
        move_rows(
            session,
            states.FINISH_TO_QA,
            [held, free],
            owner_id=operator,
            actor_id=operator,
        )
    assert read_states(engine, held, free) == [(1, 1, operator), (1, 0, None)]
    assert audit_rows(engine) == []


def test_finishing_stamps_the_cropper_and_completing_the_completer(
    engine: Engine,
) -> None:
    from sqlalchemy import text

    operator = add_user(engine, "operator")
    image = add_item(engine, "SH1", status=1, state=1, locked_by=operator)
    with sessions(engine).begin() as session:
        move_rows(
            session,
            states.FINISH_COMPLETED,
            [image],
            owner_id=operator,
            actor_id=operator,
        )
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT croppedby, croppedat IS NOT NULL, completedby,"
                " completedat IS NOT NULL, reviewedby FROM smartcrop_programimage"
                " WHERE id = :id"
            ),
            {"id": image},
        ).one()
    assert tuple(row) == (operator, True, operator, True, None)


def test_a_refused_move_leaves_the_transaction_as_it_was_without_a_savepoint(
    engine: Engine,
) -> None:
    from sqlalchemy import event

    operator = add_user(engine, "operator")
    done = add_item(engine, "SH1", status=1, state=1, locked_by=operator)
    held = add_item(engine, "SH2", status=1, state=1, locked_by=operator)
    free = add_item(engine, "SH2", status=1, state=0)
    sent: list[str] = []

    def record(conn, cursor, statement, *_: object) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        with sessions(engine).begin() as session:
            move_rows(
                session, states.FINISH_TO_QA, [done], owner_id=operator, actor_id=1
            )
            with pytest.raises(Conflict, match="no longer in state"):
                move_rows(
                    session,
                    states.FINISH_TO_QA,
                    [held, free],
                    owner_id=operator,
                    actor_id=operator,
                )
            # The transaction goes on, and commits the first move alone.
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(sent) == 2 and not any("SAVEPOINT" in s for s in sent)
    assert read_states(engine, done, held, free) == [
        (2, 0, None),
        (1, 1, operator),
        (1, 0, None),
    ]
    assert [r["programimageid"] for r in audit_rows(engine)] == [done]


def test_moving_ids_that_do_not_exist_moves_nothing(engine: Engine) -> None:
    operator = add_user(engine, "operator")
    held = add_item(engine, "SH1", status=1, state=1, locked_by=operator)
    with (
        sessions(engine).begin() as session,
        pytest.raises(Conflict, match="no longer in state"),
    ):
        move_rows(
            session,
            states.FINISH_TO_QA,
            [held, held + 1000],
            owner_id=operator,
            actor_id=operator,
        )
    assert read_states(engine, held) == [(1, 1, operator)]
    assert audit_rows(engine) == []


def test_only_a_claim_may_take_over_expired_locks(engine: Engine) -> None:
    with (
        sessions(engine).begin() as session,
        pytest.raises(ValueError, match="only a claim"),
    ):
        states.apply_move(
            session,
            states.APPROVE,
            "old AS (SELECT id, lockedby FROM smartcrop_programimage)",
            owner_id=None,
            actor_id=None,
            take_over_after_minutes=30,
        )
