"""Lock expiry by the clock, and releasing a user's locks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from smartcrop.errors import Conflict
from smartcrop.workflow.claims import claim_for_operator, claim_for_qa
from smartcrop.workflow.locks import (
    lock_rows_by_id,
    release_expired_locks,
    release_user_locks,
    require_held,
)
from tests.support.work_items import (
    add_item,
    add_user,
    age_locks,
    audit_rows,
    sessions,
    states,
)


def test_locks_older_than_the_timeout_are_released_with_an_audit_row(
    engine: Engine,
) -> None:
    op, qa = add_user(engine), add_user(engine, "qa")
    stale_op = add_item(engine, "SH1", status=1, state=1, locked_by=op)
    stale_qa = add_item(engine, "SH2", status=2, state=1, locked_by=qa)
    fresh = add_item(engine, "SH3", status=1, state=1, locked_by=op)
    age_locks(engine, 31, stale_op, stale_qa)
    age_locks(engine, 29, fresh)
    with sessions(engine).begin() as session:
        assert release_expired_locks(session, 30) == 2
    assert states(engine, stale_op, stale_qa, fresh) == [
        (1, 0, None),
        (2, 0, None),
        (1, 1, op),
    ]
    rows = {r["programimageid"]: r for r in audit_rows(engine)}
    assert set(rows) == {stale_op, stale_qa}
    assert rows[stale_op]["action"] == "expire"
    assert rows[stale_op]["userid"] is None
    assert rows[stale_op]["details"] == {"lockedby": op}
    assert (rows[stale_qa]["fromstatus"], rows[stale_qa]["tostatus"]) == (2, 2)
    with sessions(engine).begin() as session:
        assert release_expired_locks(session, 30) == 0


def test_an_operator_claim_treats_expired_locks_as_free(engine: Engine) -> None:
    alice, bob = add_user(engine), add_user(engine)
    image = add_item(engine, "SH1", status=1, state=1, locked_by=alice)
    with sessions(engine).begin() as session:
        assert claim_for_operator(session, "NBCU", bob, lock_timeout_minutes=30) is None
    age_locks(engine, 45, image)
    with sessions(engine).begin() as session:
        claimed = claim_for_operator(session, "NBCU", bob, lock_timeout_minutes=30)
    assert claimed.image_ids == [image]
    assert states(engine, image) == [(1, 1, bob)]
    assert [r["action"] for r in audit_rows(engine, image)] == ["expire", "claim"]


def test_a_qa_claim_also_releases_expired_locks(engine: Engine) -> None:
    q1, q2 = add_user(engine, "qa"), add_user(engine, "qa")
    image = add_item(engine, "SH1", status=2, state=1, locked_by=q1)
    age_locks(engine, 10, image)
    with sessions(engine).begin() as session:
        claimed = claim_for_qa(session, "SH1", q2, lock_timeout_minutes=5)
    assert claimed.image_ids == [image]


def test_an_expired_lock_no_longer_lets_its_holder_write(engine: Engine) -> None:
    op = add_user(engine)
    image = add_item(engine, "SH1", status=1, state=1, locked_by=op)
    age_locks(engine, 31, image)
    with sessions(engine).begin() as session:
        row = lock_rows_by_id(session, [image], 30)[image]
        with pytest.raises(Conflict, match="expired"):
            require_held(row, op)


def test_releasing_a_users_locks_puts_rows_back_where_they_were(
    engine: Engine,
) -> None:
    op, admin, other = add_user(engine), add_user(engine, "admin"), add_user(engine)
    mine_op = add_item(engine, "SH1", status=1, state=1, locked_by=op)
    mine_qa = add_item(engine, "SH2", status=2, state=1, locked_by=op)
    theirs = add_item(engine, "SH3", status=1, state=1, locked_by=other)
    with sessions(engine).begin() as session:
        assert release_user_locks(session, op, admin) == 2
    assert states(engine, mine_op, mine_qa, theirs) == [
        (1, 0, None),
        (2, 0, None),
        (1, 1, other),
    ]
    [a] = audit_rows(engine, mine_op)
    assert (a["action"], a["userid"], a["details"]) == (
        "admin_release",
        admin,
        {"lockedby": op},
    )
    with sessions(engine).begin() as session:
        assert release_user_locks(session, other, other) == 1
    assert audit_rows(engine, theirs)[0]["action"] == "release"


def test_expiry_by_a_periodic_job_and_a_claim_at_once_releases_each_row_once(
    engine: Engine,
) -> None:
    import threading

    op = add_user(engine)
    images = [
        add_item(engine, f"SH{n}", status=1, state=1, locked_by=op, age=timedelta(n))
        for n in range(30)
    ]
    age_locks(engine, 60, *images)
    barrier = threading.Barrier(4)

    def sweep() -> None:
        barrier.wait()
        with sessions(engine).begin() as session:
            release_expired_locks(session, 30)

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    expired = [r for r in audit_rows(engine) if r["action"] == "expire"]
    assert sorted(r["programimageid"] for r in expired) == sorted(images)
