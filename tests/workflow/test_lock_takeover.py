"""A claim takes over expired locks itself, in its one statement, with the audit trail
of a release followed by a claim; it never waits for the periodic release."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import Engine, event, text

from smartcrop.workflow.claims import claim_for_operator, claim_for_qa
from smartcrop.workflow.locks import release_expired_locks
from tests.support.work_items import (
    add_item,
    add_user,
    age_locks,
    audit_rows,
    sessions,
    states,
)

TIMEOUT = 30


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement sent through ``engine`` inside the block."""
    seen: list[str] = []

    def record(conn, cursor, statement, params, context, executemany) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_claim_takes_over_an_expired_lock_without_a_separate_release(
    engine: Engine,
) -> None:
    alice, bob = add_user(engine), add_user(engine)
    image = add_item(engine, "SH1", status=1, state=1, locked_by=alice)
    elsewhere = add_item(engine, "EP1", "TMDB", status=1, state=1, locked_by=alice)
    age_locks(engine, 45, image, elsewhere)
    with statements(engine) as sent, sessions(engine).begin() as session:
        claimed = claim_for_operator(session, "NBCU", bob, lock_timeout_minutes=30)
    assert claimed is not None and claimed.image_ids == [image]
    # The user's own programme (none) and the claim itself: no release statement.
    assert len(sent) == 2, sent
    assert states(engine, image) == [(1, 1, bob)]
    expire, claim = audit_rows(engine, image)
    assert (expire["action"], expire["userid"], expire["details"]) == (
        "expire",
        None,
        {"lockedby": alice},
    )
    assert (expire["fromstatus"], expire["fromstate"]) == (1, 1)
    assert (expire["tostatus"], expire["tostate"]) == (1, 0)
    assert (claim["action"], claim["userid"], claim["details"]) == ("claim", bob, {})
    assert (claim["fromstate"], claim["tostate"]) == (0, 1)
    # An expired lock of a programme nobody claimed is left to the periodic release.
    assert states(engine, elsewhere) == [(1, 1, alice)]
    assert audit_rows(engine, elsewhere) == []


def test_a_programme_partly_under_an_expired_lock_is_taken_whole(
    engine: Engine,
) -> None:
    alice, bob = add_user(engine), add_user(engine)
    held = add_item(engine, "SH1", status=1, state=1, locked_by=alice)
    free = add_item(engine, "SH1")  # e.g. sent back by QA meanwhile
    add_item(engine, "SH2", age=timedelta(minutes=-5))  # newer
    # While alice's lock is live, SH1 is not offered (not even its free row).
    with sessions(engine).begin() as session:
        claimed = claim_for_operator(session, "NBCU", bob, lock_timeout_minutes=30)
    assert claimed is not None and claimed.program_id == "SH2"
    age_locks(engine, 31, held)
    carol = add_user(engine)
    with sessions(engine).begin() as session:
        claimed = claim_for_operator(session, "NBCU", carol, lock_timeout_minutes=30)
    assert claimed is not None and claimed.image_ids == [held, free]
    assert states(engine, held, free) == [(1, 1, carol), (1, 1, carol)]
    assert [r["action"] for r in audit_rows(engine, held)] == ["expire", "claim"]
    assert [r["action"] for r in audit_rows(engine, free)] == ["claim"]


def test_a_users_own_expired_lock_is_claimed_afresh_not_resumed(
    engine: Engine,
) -> None:
    alice = add_user(engine)
    mine = add_item(engine, "SH1", status=1, state=1, locked_by=alice)
    add_item(engine, "SH2", age=timedelta(minutes=-5))  # newer
    age_locks(engine, 31, mine)
    with sessions(engine).begin() as session:
        claimed = claim_for_operator(session, "NBCU", alice, lock_timeout_minutes=30)
    assert claimed is not None and claimed.image_ids == [mine]
    assert [
        (r["action"], r["userid"], r["details"]) for r in audit_rows(engine, mine)
    ] == [("expire", None, {"lockedby": alice}), ("claim", alice, {})]
    # The lock is live again: claiming once more resumes it, writing nothing.
    with sessions(engine).begin() as session:
        again = claim_for_operator(session, "NBCU", alice, lock_timeout_minutes=30)
    assert again is not None and again.image_ids == [mine]
    assert len(audit_rows(engine, mine)) == 2


def test_a_qa_claim_of_the_oldest_takes_over_an_expired_review(
    engine: Engine,
) -> None:
    q1, q2 = add_user(engine, "qa"), add_user(engine, "qa")
    image = add_item(engine, "EP1", status=2, state=1, locked_by=q1)
    with sessions(engine).begin() as session:
        assert claim_for_qa(session, None, q2, lock_timeout_minutes=TIMEOUT) is None
    age_locks(engine, 31, image)
    with sessions(engine).begin() as session:
        claimed = claim_for_qa(session, None, q2, lock_timeout_minutes=TIMEOUT)
    assert claimed is not None and claimed.image_ids == [image]
    assert [(r["action"], r["fromstatus"]) for r in audit_rows(engine, image)] == [
        ("expire", 2),
        ("qa_claim", 2),
    ]


def test_claims_and_the_periodic_release_at_once_expire_each_row_once(
    engine: Engine,
) -> None:
    holder = add_user(engine)
    images = [
        add_item(
            engine,
            f"SH{n:02d}",
            status=1,
            state=1,
            locked_by=holder,
            age=timedelta(minutes=60 - n),
        )
        for n in range(24)
    ]
    age_locks(engine, 45, *images)
    claimers = [add_user(engine) for _ in range(6)]
    barrier = threading.Barrier(len(claimers) + 2)
    taken: list[str] = []
    lock = threading.Lock()

    def claim(user: int) -> None:
        barrier.wait()
        for _ in range(3):
            with sessions(engine).begin() as session:
                got = claim_for_operator(
                    session, "NBCU", user, lock_timeout_minutes=TIMEOUT
                )
            if got is None:
                return
            with lock:
                taken.append(got.program_id)
            # Let go, so this user's next claim is a new programme, not a resume.
            with engine.begin() as conn:
                conn.execute(
                    text(
                        "UPDATE smartcrop_programimage SET status = 3,"
                        " currentstate = 0, lockedby = NULL, lockedat = NULL"
                        " WHERE id = ANY(:ids)"
                    ),
                    {"ids": got.image_ids},
                )

    def sweep() -> None:
        barrier.wait()
        with sessions(engine).begin() as session:
            release_expired_locks(session, TIMEOUT)

    threads = [threading.Thread(target=claim, args=(u,)) for u in claimers]
    threads += [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(taken) == len(set(taken))  # no programme handed out twice
    expired = [
        r["programimageid"] for r in audit_rows(engine) if r["action"] == "expire"
    ]
    assert sorted(expired) == sorted(images)  # each released exactly once


def test_a_claim_never_waits_on_a_row_lock_and_takes_the_programme_whole(
    engine: Engine,
) -> None:
    bob = add_user(engine)
    first = add_item(engine, "SH1", age=timedelta(hours=2))
    second = add_item(engine, "SH1", age=timedelta(hours=1))
    add_item(engine, "SH2")
    # Another writer (say, the suggestion pipeline storing a size) holds one row of
    # the oldest programme for a moment.
    other = engine.connect()
    other.begin()
    other.execute(
        text("SELECT 1 FROM smartcrop_programimage WHERE id = :id FOR UPDATE"),
        {"id": second},
    )
    releaser = threading.Timer(0.3, other.commit)
    releaser.start()
    try:
        with sessions(engine).begin() as session:
            # Waiting on that lock would fail at once instead.
            session.execute(text("SET LOCAL lock_timeout = '20ms'"))
            claimed = claim_for_operator(
                session, "NBCU", bob, lock_timeout_minutes=TIMEOUT
            )
    finally:
        releaser.join()
        other.close()
    # Not half of SH1 while its other row was busy: all of it, once it was free.
    assert claimed is not None and claimed.image_ids == [first, second]
    assert states(engine, first, second) == [(1, 1, bob), (1, 1, bob)]
