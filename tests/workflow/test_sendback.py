"""Send-back with a comment, to the same operator first (issue 17).

A programme QA sends back is offered only to the operator who last finished it for
``sendback_affinity_minutes``, before older work in her queue; then to anyone. The
clock is moved by moving the send-back's stored time (``reviewedat``) into the past,
as the lock tests move ``lockedat``: nothing sleeps.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import Engine, event, text

from smartcrop.errors import InvalidInput
from smartcrop.settings import load_settings
from smartcrop.workflow.claims import claim_for_operator, claim_for_qa
from smartcrop.workflow.comments import MAX_COMMENT_LENGTH
from smartcrop.workflow.programmes import build_programme
from smartcrop.workflow.status_updates import update_status
from tests.support.work_items import (
    add_item,
    add_rendition,
    add_user,
    audit_rows,
    sessions,
    snapshot,
    states,
)

TIMEOUT = 30
AFFINITY = 60
OTHER = 7  # reject reason "Other": the comment says what


def operator_claim(engine: Engine, user: int, affinity: int = AFFINITY):
    with sessions(engine).begin() as session:
        return claim_for_operator(
            session,
            "NBCU",
            user,
            lock_timeout_minutes=TIMEOUT,
            sendback_affinity_minutes=affinity,
        )


def move(
    engine: Engine,
    program_id: str,
    user: int,
    stage: int,
    status: int,
    *,
    reason: int | None = None,
    comment: str | None = None,
) -> list[int]:
    with sessions(engine).begin() as session:
        return update_status(
            session,
            program_id,
            status,
            0,
            owner_id=user,
            actor_id=user,
            stage_statuses=(stage,),
            lock_timeout_minutes=TIMEOUT,
            reject_reason_id=reason,
            comment=comment,
            route=lambda _session, _program: 2,  # finished work goes to QA
        )


def finish(engine: Engine, program_id: str, operator: int) -> None:
    move(engine, program_id, operator, 1, 2)


def send_back(
    engine: Engine, program_id: str, qa: int, comment: str | None = None
) -> None:
    with sessions(engine).begin() as session:
        assert claim_for_qa(session, program_id, qa, lock_timeout_minutes=TIMEOUT)
    move(engine, program_id, qa, 2, 1, reason=OTHER, comment=comment)


def sent_back_programme(engine: Engine, operator: int, qa: int) -> int:
    """SH1 (one image), claimed and finished by ``operator``, sent back by ``qa``."""
    image = add_item(engine, "SH1", age=timedelta(hours=1))
    add_rendition(engine, image)
    assert operator_claim(engine, operator).image_ids == [image]
    finish(engine, "SH1", operator)
    send_back(engine, "SH1", qa, "The 16x9 cuts the title off")
    return image


def age_send_back(engine: Engine, minutes: int, *image_ids: int) -> None:
    """Move the send-back time of these images ``minutes`` into the past."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE smartcrop_programimage"
                " SET reviewedat = reviewedat - make_interval(mins => :m)"
                " WHERE id = ANY(:ids)"
            ),
            {"m": minutes, "ids": list(image_ids)},
        )


def test_a_sent_back_programme_goes_to_its_operator_first_then_to_anyone(
    engine: Engine,
) -> None:
    olga, bob, quinn = add_user(engine), add_user(engine), add_user(engine, "qa")
    image = sent_back_programme(engine, olga, quinn)

    # Within the window, nobody else gets it: Bob's queue is empty to him.
    assert operator_claim(engine, bob) is None
    age_send_back(engine, AFFINITY - 1, image)
    assert operator_claim(engine, bob) is None
    assert states(engine, image) == [(1, 0, None)]

    # Once the window has passed, it is ordinary work: Bob takes it.
    age_send_back(engine, 2, image)
    claimed = operator_claim(engine, bob)
    assert claimed is not None and claimed.image_ids == [image]
    assert states(engine, image) == [(1, 1, bob)]


def test_an_image_added_to_a_sent_back_programme_waits_with_it(
    engine: Engine,
) -> None:
    # A later file adds an image to SH1 while it is sent back to Olga: the programme
    # is claimed whole, by her, not split with the first operator who asks.
    olga, bob, quinn = add_user(engine), add_user(engine), add_user(engine, "qa")
    image = sent_back_programme(engine, olga, quinn)
    added = add_item(engine, "SH1", url="https://img.example.com/SH1/added.jpg")

    assert operator_claim(engine, bob) is None
    assert states(engine, added) == [(1, 0, None)]
    claimed = operator_claim(engine, olga)
    assert claimed is not None and sorted(claimed.image_ids) == sorted([image, added])

    # Past the window, the whole programme is anyone's again.
    move(engine, "SH1", olga, 1, 1)
    age_send_back(engine, AFFINITY + 1, image)
    claimed = operator_claim(engine, bob)
    assert claimed is not None and sorted(claimed.image_ids) == sorted([image, added])


def test_the_operators_next_claim_returns_it_before_older_work(engine: Engine) -> None:
    olga, bob, quinn = add_user(engine), add_user(engine), add_user(engine, "qa")
    image = sent_back_programme(engine, olga, quinn)
    older = add_item(engine, "SH0", age=timedelta(days=2))  # waiting longer
    other_operators = add_item(engine, "SH2", age=timedelta(days=1))
    with engine.begin() as conn:  # SH2 was sent back to Bob, by the same QA user
        conn.execute(
            text(
                "UPDATE smartcrop_programimage SET croppedby = :bob,"
                " reviewedby = :qa, reviewedat = now(), rejectreasonid = 7"
                " WHERE id = :id"
            ),
            {"bob": bob, "qa": quinn, "id": other_operators},
        )

    claimed = operator_claim(engine, olga)
    assert claimed is not None and claimed.image_ids == [image]
    # Her next one is the queue's oldest: Bob's sent-back SH2 is not hers to take.
    move(engine, "SH1", olga, 1, 1)  # she puts SH1 back (still hers for the hour)
    assert operator_claim(engine, olga).image_ids == [image]
    finish(engine, "SH1", olga)
    assert operator_claim(engine, olga).image_ids == [older]
    assert states(engine, other_operators) == [(1, 0, None)]
    # Bob gets his sent-back programme before the queue's older ones.
    assert operator_claim(engine, bob).image_ids == [other_operators]


def test_an_affinity_of_zero_offers_a_sent_back_programme_to_anyone(
    engine: Engine,
) -> None:
    olga, bob, quinn = add_user(engine), add_user(engine), add_user(engine, "qa")
    image = sent_back_programme(engine, olga, quinn)
    older = add_item(engine, "SH0", age=timedelta(days=1))
    # No priority for Olga either: the queue's oldest first.
    assert operator_claim(engine, olga, affinity=0).image_ids == [older]
    claimed = operator_claim(engine, bob, affinity=0)
    assert claimed is not None and claimed.image_ids == [image]


def test_the_send_back_comment_is_in_the_audit_row_and_the_programme(
    engine: Engine,
) -> None:
    olga, quinn = add_user(engine), add_user(engine, "qa", name="Quinn Reviewer")
    image = sent_back_programme(engine, olga, quinn)
    never_sent_back = add_item(engine, "SH1", age=timedelta(minutes=5))
    send_back_row = audit_rows(engine, image)[-1]
    assert send_back_row["action"] == "send_back"
    assert send_back_row["rejectreasonid"] == OTHER
    with engine.connect() as conn:
        comments = conn.execute(
            text(
                "SELECT action, comment FROM smartcrop_programimage_audit"
                " WHERE programimageid = :id ORDER BY id"
            ),
            {"id": image},
        ).all()
    assert [tuple(row) for row in comments] == [
        ("claim", None),
        ("finish", None),
        ("qa_claim", None),
        ("send_back", "The 16x9 cuts the title off"),
    ]
    settings = load_settings()
    with sessions(engine)() as session:
        programme = build_programme(session, [image, never_sent_back], settings)
    assert programme is not None
    sent, fresh = programme["Images"]
    assert sent["LastComment"] == "The 16x9 cuts the title off"
    assert sent["SentBackBy"] == {"UserId": quinn, "UserName": "Quinn Reviewer"}
    assert (fresh["LastComment"], fresh["SentBackBy"]) == (None, None)


def test_a_comment_is_at_most_1000_characters_and_only_with_a_reason(
    engine: Engine,
) -> None:
    olga, quinn = add_user(engine), add_user(engine, "qa")
    image = add_item(engine, "SH1")
    add_rendition(engine, image)
    operator_claim(engine, olga)
    finish(engine, "SH1", olga)
    with sessions(engine).begin() as session:
        claim_for_qa(session, "SH1", quinn, lock_timeout_minutes=TIMEOUT)
    before = snapshot(engine)
    with pytest.raises(InvalidInput, match="1001 characters"):
        move(engine, "SH1", quinn, 2, 1, comment="x" * (MAX_COMMENT_LENGTH + 1))
    with pytest.raises(InvalidInput, match="reject or a send-back"):
        move(engine, "SH1", quinn, 2, 3, comment="Lovely crop")  # an approval
    assert snapshot(engine) == before
    move(engine, "SH1", quinn, 2, 4, reason=OTHER, comment="x" * 1000)
    assert audit_rows(engine, image)[-1]["action"] == "qa_reject"


def test_the_claim_with_affinity_reads_both_queues_from_their_indexes(
    engine: Engine,
) -> None:
    """The sent-back rows come from their own partial index (migration 0007) and the
    queue is still read in order from the operator-queue index, at a size where
    reading the table or sorting the provider's rows would cost."""
    olga = add_user(engine)
    with engine.begin() as conn:
        conn.execute(
            text("""
            INSERT INTO smartcrop_programimage (link_object_id, providername,
                imageurl, status, completedat, createdat, croppedby, reviewedat,
                rejectreasonid)
            SELECT 'SH' || (n / 2), (ARRAY['NBCU', 'DISNEY', 'WBD', 'TMDB', 'SLING',
                    'EMAIL'])[1 + n % 6],
                'https://images.example.com/' || n || '.jpg',
                CASE WHEN n % 10 = 0 THEN 1 ELSE 3 END,
                CASE WHEN n % 10 = 0 THEN NULL ELSE now() END,
                now() - make_interval(secs => n),
                CASE WHEN n % 200 = 0 THEN :olga END,
                CASE WHEN n % 200 = 0 THEN now() END,
                CASE WHEN n % 200 = 0 THEN 3 END
            FROM generate_series(1, 30000) AS n
            """),
            {"olga": olga},
        )
        conn.execute(text("ANALYZE smartcrop_programimage"))
    statements: list[tuple[str, dict]] = []

    def record(conn, cursor, statement, parameters, *_: object) -> None:
        if "pg_try_advisory_xact_lock" in statement and "UPDATE" in statement:
            statements.append((statement, dict(parameters)))

    event.listen(engine, "before_cursor_execute", record)
    try:
        with sessions(engine)() as session:
            claimed = claim_for_operator(
                session,
                "nbcu",
                olga,
                lock_timeout_minutes=TIMEOUT,
                sendback_affinity_minutes=AFFINITY,
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
    assert "Index Scan using ix_smartcrop_programimage_sent_back" in plan, plan
    # The queue itself (alias q), read by provider in order; the check that no row of
    # a candidate's programme waits for another operator (alias s) probes an index
    # by programme, once per candidate.
    lines = plan.splitlines()
    queue_scans = [
        i
        for i, line in enumerate(lines)
        if re.search(r"operator_queue on smartcrop_programimage q(_\d+)? ", line)
    ]
    assert len(queue_scans) == 1, plan
    condition = lines[queue_scans[0] + 1]
    assert "Index Cond: (lower((providername)::text) = " in condition, plan
    assert "link_object_id" not in condition, plan
    for i, line in enumerate(lines):
        if re.search(r"on smartcrop_programimage s(_\d+)? ", line):
            assert "Index Scan" in line, plan
            assert "link_object_id)::text = " in lines[i + 1], plan
    # Read lazily in queue order (the claim stops at its first programme), not all
    # of the window sorted.
    assert "Merge Append" in plan, plan
    assert "Seq Scan on smartcrop_programimage" not in plan, plan


def test_a_claim_tries_the_queue_only_when_nothing_was_sent_back_to_her(
    engine: Engine,
) -> None:
    """Her sent-back programme taken, the queue is not read: no advisory lock is
    tried on a programme the claim does not take."""
    olga, quinn = add_user(engine), add_user(engine, "qa")
    image = sent_back_programme(engine, olga, quinn)
    for n in range(3):
        add_item(engine, f"SH0{n}", age=timedelta(days=1 + n))
    with sessions(engine).begin() as session:
        claimed = claim_for_operator(
            session,
            "NBCU",
            olga,
            lock_timeout_minutes=TIMEOUT,
            sendback_affinity_minutes=AFFINITY,
        )
        assert claimed is not None and claimed.image_ids == [image]
        advisory = session.scalar(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                " AND pid = pg_backend_pid()"
            )
        )
    assert advisory == 1
