"""Claims: oldest programme first, whole programmes, never the same one twice."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine, event, text

from smartcrop.errors import Conflict, InvalidInput, NotFound
from smartcrop.workflow.claims import claim_for_operator, claim_for_qa
from tests.support.work_items import add_item, add_user, audit_rows, sessions, states

TIMEOUT = 30


def operator_claim(engine: Engine, provider: str, user: int):
    with sessions(engine).begin() as session:
        return claim_for_operator(session, provider, user, lock_timeout_minutes=TIMEOUT)


def qa_claim(engine: Engine, program_id: str | None, user: int):
    with sessions(engine).begin() as session:
        return claim_for_qa(session, program_id, user, lock_timeout_minutes=TIMEOUT)


def test_claims_the_oldest_programme_of_the_provider_with_all_its_free_rows(
    engine: Engine,
) -> None:
    user = add_user(engine)
    newer = add_item(engine, "SH2", age=timedelta(hours=1))
    old_a = add_item(engine, "SH1", age=timedelta(hours=2))
    old_b = add_item(engine, "SH1", age=timedelta(minutes=5))
    other_provider = add_item(engine, "SH0", "TMDB", age=timedelta(days=1))
    claimed = operator_claim(engine, "NBCU", user)
    assert claimed.program_id == "SH1"
    assert claimed.image_ids == sorted([old_a, old_b])
    assert states(engine, old_a, old_b, newer, other_provider) == [
        (1, 1, user),
        (1, 1, user),
        (1, 0, None),
        (1, 0, None),
    ]
    actions = [
        (r["programimageid"], r["action"], r["userid"]) for r in audit_rows(engine)
    ]
    assert sorted(actions) == sorted([(old_a, "claim", user), (old_b, "claim", user)])


def test_ties_in_age_are_broken_by_programme_id(engine: Engine) -> None:
    user = add_user(engine)
    from sqlalchemy import text

    ids = [add_item(engine, pid) for pid in ("SH9", "SH3", "SH5")]
    with engine.begin() as conn:  # the very same createdat for all three
        conn.execute(text("UPDATE smartcrop_programimage SET createdat = '2026-01-01'"))
    assert operator_claim(engine, "NBCU", user).program_id == "SH3"
    assert len(ids) == 3


def test_an_empty_queue_gives_none(engine: Engine) -> None:
    user = add_user(engine)
    add_item(engine, "SH1", status=3)
    assert operator_claim(engine, "NBCU", user) is None
    assert operator_claim(engine, "NOBODY", user) is None


def test_provider_is_required(engine: Engine) -> None:
    with pytest.raises(InvalidInput):
        operator_claim(engine, " ", add_user(engine))


def test_claiming_again_resumes_the_programme_held(engine: Engine) -> None:
    user = add_user(engine)
    first = add_item(engine, "SH1", age=timedelta(hours=2))
    add_item(engine, "SH2", age=timedelta(hours=1))
    assert operator_claim(engine, "NBCU", user).image_ids == [first]
    again = operator_claim(engine, "NBCU", user)
    assert again.program_id == "SH1" and again.image_ids == [first]
    assert len(audit_rows(engine)) == 1


def test_a_programme_partly_held_by_someone_is_not_offered(engine: Engine) -> None:
    alice, bob = add_user(engine), add_user(engine)
    add_item(engine, "SH1", status=1, state=1, locked_by=alice, age=timedelta(hours=3))
    add_item(engine, "SH1", age=timedelta(hours=2))  # e.g. sent back by QA
    later = add_item(engine, "SH2", age=timedelta(hours=1))
    assert operator_claim(engine, "NBCU", bob).image_ids == [later]


def test_sixteen_concurrent_operators_never_share_a_programme(engine: Engine) -> None:
    programmes = {f"SH{n:03d}": [] for n in range(12)}
    for n, pid in enumerate(programmes):
        for k in range(3):
            programmes[pid].append(
                add_item(engine, pid, age=timedelta(minutes=100 - n, seconds=k))
            )
    users = [add_user(engine) for _ in range(16)]
    barrier = threading.Barrier(len(users))
    results: dict[int, object] = {}

    def run(user: int) -> None:
        barrier.wait()
        results[user] = operator_claim(engine, "NBCU", user)

    threads = [threading.Thread(target=run, args=(u,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    got = [r for r in results.values() if r is not None]
    assert len(results) == 16
    assert len(got) == 12  # every programme claimed once, four users got nothing
    assert sorted(c.program_id for c in got) == sorted(programmes)
    for claim in got:
        assert claim.image_ids == sorted(programmes[claim.program_id])
    assert len(audit_rows(engine)) == 36


def test_qa_claims_the_oldest_programme_in_qa_or_the_one_asked_for(
    engine: Engine,
) -> None:
    qa = add_user(engine, "qa")
    old = add_item(engine, "SH1", "TMDB", status=2, age=timedelta(hours=2))
    new = add_item(engine, "SH2", status=2, age=timedelta(hours=1))
    assert qa_claim(engine, "", qa).image_ids == [old]
    other_qa = add_user(engine, "qa")
    assert qa_claim(engine, "SH2", other_qa).image_ids == [new]
    assert states(engine, old, new) == [(2, 1, qa), (2, 1, other_qa)]
    [a, b] = audit_rows(engine)
    assert (a["action"], a["fromstatus"], a["tostate"]) == ("qa_claim", 2, 1)
    assert b["userid"] == other_qa


def test_qa_claim_refusals(engine: Engine) -> None:
    qa, other = add_user(engine, "qa"), add_user(engine, "qa")
    add_item(engine, "SH1", status=2, state=1, locked_by=other)
    add_item(engine, "SH2", status=1)
    with pytest.raises(NotFound):
        qa_claim(engine, "NOPE", qa)
    with pytest.raises(Conflict, match="being reviewed"):
        qa_claim(engine, "SH1", qa)
    with pytest.raises(Conflict, match="no images waiting for QA"):
        qa_claim(engine, "SH2", qa)
    assert qa_claim(engine, None, qa) is None
    assert qa_claim(engine, "SH1", other).image_ids  # the holder gets it back


def test_sixteen_concurrent_qa_users_never_share_a_programme(engine: Engine) -> None:
    for n in range(10):
        for k in range(2):
            add_item(
                engine, f"EP{n}", status=2, age=timedelta(minutes=50 - n, seconds=k)
            )
    users = [add_user(engine, "qa") for _ in range(16)]
    barrier = threading.Barrier(16)
    results: list[object] = []
    lock = threading.Lock()

    def run(user: int) -> None:
        barrier.wait()
        claim = qa_claim(engine, None, user)
        with lock:
            results.append(claim)

    threads = [threading.Thread(target=run, args=(u,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    got = [c.program_id for c in results if c is not None]
    assert sorted(got) == sorted(f"EP{n}" for n in range(10))


def test_a_claim_locks_only_the_programme_it_takes(engine: Engine) -> None:
    from sqlalchemy import text

    for n in range(60):
        add_item(engine, f"SH{n:02d}", age=timedelta(minutes=100 - n))
    user = add_user(engine)
    with sessions(engine).begin() as session:
        claimed = claim_for_operator(session, "NBCU", user, lock_timeout_minutes=30)
        advisory = session.scalar(
            text(
                "SELECT count(*) FROM pg_locks"
                " WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
            )
        )
    assert claimed.program_id == "SH00"
    assert advisory == 1


def test_the_provider_name_matches_whatever_its_case(engine: Engine) -> None:
    user = add_user(engine)
    first = add_item(engine, "SH1", "NBCU", age=timedelta(hours=2))
    second = add_item(engine, "SH2", "NBCU", age=timedelta(hours=1))
    other = add_item(engine, "SH0", "TMDB", age=timedelta(days=1))
    assert operator_claim(engine, "nbcu", user).image_ids == [first]
    assert operator_claim(engine, "Nbcu", user).image_ids == [first]  # resumed
    assert states(engine, first, second, other) == [
        (1, 1, user),
        (1, 0, None),
        (1, 0, None),
    ]
    assert operator_claim(engine, "NBCU", add_user(engine)).image_ids == [second]


def test_a_claim_reads_the_queue_from_the_lower_provider_index(engine: Engine) -> None:
    """Matching lower(providername) keeps the claim on the operator-queue index
    (migration 0006 builds it on that expression), at a size where reading the
    table or sorting the provider's rows would cost."""
    with engine.begin() as conn:
        conn.execute(
            text("""
            INSERT INTO smartcrop_programimage (link_object_id, providername,
                imageurl, status, completedat, createdat)
            SELECT 'SH' || (n / 2), (ARRAY['NBCU', 'DISNEY', 'WBD', 'TMDB', 'SLING',
                    'EMAIL'])[1 + n % 6],
                'https://images.example.com/' || n || '.jpg',
                CASE WHEN n % 10 = 0 THEN 1 ELSE 3 END,
                CASE WHEN n % 10 = 0 THEN NULL ELSE now() END,
                now() - make_interval(secs => n)
            FROM generate_series(1, 30000) AS n
            """)
        )
        conn.execute(text("ANALYZE smartcrop_programimage"))
    statements: list[tuple[str, dict]] = []

    def record(
        conn: object, cursor: object, statement: str, parameters: dict, *_: object
    ) -> None:
        if "pg_try_advisory_xact_lock" in statement and "UPDATE" in statement:
            statements.append((statement, dict(parameters)))

    event.listen(engine, "before_cursor_execute", record)
    try:
        with sessions(engine)() as session:
            claimed = claim_for_operator(
                session, "nbcu", add_user(engine), lock_timeout_minutes=TIMEOUT
            )
            assert claimed is not None
            session.rollback()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    statement, parameters = statements[0]
    with engine.connect() as conn:
        plan = "\n".join(
            row[0] for row in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters)
        )
    # An ordered index scan (not a bitmap scan and a sort) keyed on the expression.
    queue_scan = plan.split("Index Scan using ix_smartcrop_programimage_operator_queue")
    assert len(queue_scan) == 2, plan
    index_cond = queue_scan[1].split("\n")[1]
    assert "Index Cond: (lower((providername)::text) = " in index_cond, plan
