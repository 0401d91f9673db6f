"""Lock renewal: the holder extends their lock from now by the timeout; everyone else
is refused, in words that say why. The clock is moved by ageing ``lockedat``
(``age_locks``), as the other lock-expiry tests do: nothing sleeps."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, text

from smartcrop.errors import Conflict, InvalidInput, NotFound
from smartcrop.workflow.claims import claim_for_operator, claim_for_qa
from smartcrop.workflow.locks import release_expired_locks, release_user_locks
from smartcrop.workflow.programmes import claimed_programme
from smartcrop.workflow.renewal import renew_lock
from tests.support.work_items import (
    add_item,
    add_user,
    age_locks,
    audit_rows,
    sessions,
    states,
)

TIMEOUT = 30
OPERATOR = (1,)
QA = (2,)


def claim(engine: Engine, user: int, provider: str = "NBCU"):
    with sessions(engine).begin() as session:
        return claim_for_operator(session, provider, user, lock_timeout_minutes=TIMEOUT)


def renew(engine: Engine, program_id: str, user: int, stages=OPERATOR):
    with sessions(engine).begin() as session:
        renewed = renew_lock(
            session, program_id, user, stage_statuses=stages, timeout_minutes=TIMEOUT
        )
        now = session.scalar(text("SELECT now()"))
    return renewed, now


def refusal(engine: Engine, program_id: str, user: int, stages=OPERATOR) -> str:
    with pytest.raises(Conflict) as refused:
        renew(engine, program_id, user, stages)
    return refused.value.message


def test_a_renewal_keeps_the_programme_from_a_claim_at_minute_31(
    engine: Engine,
) -> None:
    alice, bob = add_user(engine), add_user(engine)
    images = [add_item(engine, "SH1"), add_item(engine, "SH1")]
    assert claim(engine, alice).image_ids == images
    age_locks(engine, 20, *images)  # minute 20: alice renews
    renewed, now = renew(engine, "SH1", alice)
    assert renewed.image_ids == images
    assert renewed.expires_at == now + timedelta(minutes=TIMEOUT)
    age_locks(engine, 11, *images)  # minute 31 since the claim, 11 since the renewal
    assert claim(engine, bob) is None
    assert states(engine, *images) == [(1, 1, alice)] * 2
    # Renewing is not a move: the trail holds the claims only.
    assert [row["action"] for row in audit_rows(engine)] == ["claim", "claim"]


def test_without_the_renewal_the_claim_at_minute_31_takes_it(engine: Engine) -> None:
    alice, bob = add_user(engine), add_user(engine)
    image = add_item(engine, "SH1")
    claim(engine, alice)
    age_locks(engine, 31, image)
    assert claim(engine, bob).image_ids == [image]


def test_a_renewal_after_a_takeover_is_refused(engine: Engine) -> None:
    alice, bob = add_user(engine), add_user(engine)
    image = add_item(engine, "SH1")
    claim(engine, alice)
    age_locks(engine, 31, image)
    claim(engine, bob)
    message = refusal(engine, "SH1", alice)
    assert "another user has taken the programme over" in message
    assert states(engine, image) == [(1, 1, bob)]


def test_an_expired_lock_nobody_took_is_renewed(engine: Engine) -> None:
    alice, bob = add_user(engine), add_user(engine)
    image = add_item(engine, "SH1")
    claim(engine, alice)
    age_locks(engine, 45, image)
    renewed, now = renew(engine, "SH1", alice)
    assert renewed.expires_at == now + timedelta(minutes=TIMEOUT)
    assert claim(engine, bob) is None
    assert states(engine, image) == [(1, 1, alice)]


def test_only_the_holder_renews(engine: Engine) -> None:
    alice, bob, carol = add_user(engine), add_user(engine), add_user(engine)
    held = add_item(engine, "SH1")
    add_item(engine, "SH2", age=timedelta(minutes=-5))
    claim(engine, alice)
    assert "locked by another user" in refusal(engine, "SH1", bob)
    # A programme nobody holds, never held by the caller.
    assert "you do not hold programme SH2" in refusal(engine, "SH2", carol)
    assert states(engine, held) == [(1, 1, alice)]
    with pytest.raises(NotFound):
        renew(engine, "NO-SUCH", alice)
    with pytest.raises(InvalidInput):
        renew(engine, " ", alice)


def test_a_released_lock_is_not_renewed(engine: Engine) -> None:
    alice = add_user(engine)
    image = add_item(engine, "SH1")
    claim(engine, alice)
    age_locks(engine, 31, image)
    with sessions(engine).begin() as session:
        assert release_expired_locks(session, TIMEOUT) == 1
    assert "has ended" in refusal(engine, "SH1", alice)
    claim(engine, alice)
    with sessions(engine).begin() as session:
        release_user_locks(session, alice, alice)
    assert "has ended" in refusal(engine, "SH1", alice)
    assert states(engine, image) == [(1, 0, None)]


def test_each_stage_renews_its_own_rows(engine: Engine) -> None:
    operator, reviewer = add_user(engine), add_user(engine, "qa")
    in_qa = add_item(engine, "SH1", status=2)
    sent_back = add_item(engine, "SH1")
    with sessions(engine).begin() as session:
        claim_for_qa(session, "SH1", reviewer, lock_timeout_minutes=TIMEOUT)
    claim(engine, operator)
    age_locks(engine, 10, in_qa, sent_back)
    renewed, _ = renew(engine, "SH1", reviewer, QA)
    assert renewed.image_ids == [in_qa]
    renewed, _ = renew(engine, "SH1", operator, OPERATOR)
    assert renewed.image_ids == [sent_back]
    # A QA lock is not renewed as an operator's, nor the other way round.
    assert "locked by another user" in refusal(engine, "SH1", reviewer, OPERATOR)
    assert "locked by another user" in refusal(engine, "SH1", operator, QA)


def _expiry(session, image_ids, settings):  # noqa: ANN001, ANN202
    """The LockExpiresAt a claim answers for these rows."""
    answer = claimed_programme(
        session, image_ids, settings, lock_timeout_minutes=TIMEOUT
    )
    assert answer is not None
    return answer[1]


def test_the_expiry_of_a_claim_is_its_time_plus_the_timeout(
    engine: Engine, settings
) -> None:
    alice = add_user(engine)
    images = [add_item(engine, "SH1"), add_item(engine, "SH1")]
    with sessions(engine).begin() as session:
        claimed = claim_for_operator(session, "NBCU", alice, lock_timeout_minutes=30)
        assert claimed is not None
        expires = _expiry(session, claimed.image_ids, settings)
        now = session.scalar(text("SELECT now()"))
    assert expires == now + timedelta(minutes=TIMEOUT)
    # The programme's expiry is its earliest row's.
    age_locks(engine, 7, images[0])
    with sessions(engine).begin() as session:
        assert _expiry(session, images, settings) == now + timedelta(
            minutes=TIMEOUT - 7
        )
