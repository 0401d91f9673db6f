"""`GET /image/RenewLock` and the `LockExpiresAt` of every claim answer, over HTTP.

The clock is moved by ageing the locks (``age_locks``), never by sleeping."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.support.work_items import add_item, age_locks, states
from tests.support.workflow_api import claim, data, qa_claim, refused

TIMEOUT = timedelta(minutes=30)  # the settings' default lock_timeout_minutes


def claimed_at(engine: Engine, image_id: int, action: str) -> datetime:
    """The time of the image's last claim, from the audit trail."""
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT max(createdat) FROM smartcrop_programimage_audit"
                " WHERE programimageid = :id AND action = :action"
            ),
            {"id": image_id, "action": action},
        ).scalar_one()


def renew(client: TestClient, headers: dict, program_id: str = "SH1"):
    return client.get(
        "/image/RenewLock", params={"programId": program_id}, headers=headers
    )


def test_claim_answers_carry_the_claim_time_plus_the_timeout(
    client: TestClient, token_for, engine: Engine
) -> None:
    op, op_h = token_for("operator")
    qa, qa_h = token_for("qa")
    image = add_item(engine, "SH1")
    reviewed = add_item(engine, "SH2", status=2)

    programme = data(claim(client, op_h, op))
    expires = datetime.fromisoformat(programme["LockExpiresAt"])
    assert expires == claimed_at(engine, image, "claim") + TIMEOUT
    assert programme["LockExpiresAt"].endswith("+00:00")
    # A claim that resumes the programme answers the same expiry.
    assert data(claim(client, op_h, op))["LockExpiresAt"] == programme["LockExpiresAt"]

    review = data(qa_claim(client, qa_h, qa))
    assert review["ProgramId"] == "SH2"
    expires = datetime.fromisoformat(review["LockExpiresAt"])
    assert expires == claimed_at(engine, reviewed, "qa_claim") + TIMEOUT


def test_the_holder_renews_and_keeps_the_programme_at_minute_31(
    client: TestClient, token_for, engine: Engine
) -> None:
    alice, alice_h = token_for("operator")
    bob, bob_h = token_for("operator")
    images = [add_item(engine, "SH1"), add_item(engine, "SH1")]
    first = data(claim(client, alice_h, alice))
    age_locks(engine, 20, *images)

    renewed = data(renew(client, alice_h))
    assert set(renewed) == {"ProgramId", "LockExpiresAt", "RenewedImages"}
    assert (renewed["ProgramId"], renewed["RenewedImages"]) == ("SH1", 2)
    # The aged lock lapsed 10 minutes from "now"; the renewed one lapses 30 from it.
    aged = datetime.fromisoformat(first["LockExpiresAt"]) - timedelta(minutes=20)
    new_expiry = datetime.fromisoformat(renewed["LockExpiresAt"])
    assert timedelta(minutes=20) <= new_expiry - aged < timedelta(minutes=21)

    age_locks(engine, 11, *images)  # minute 31 since the claim
    answer = claim(client, bob_h, bob)
    assert answer.status_code == 200 and answer.json()["Data"] is None
    assert states(engine, *images) == [(1, 1, alice)] * 2


def test_a_renewal_after_a_takeover_is_409_saying_so(
    client: TestClient, token_for, engine: Engine
) -> None:
    alice, alice_h = token_for("operator")
    bob, bob_h = token_for("operator")
    image = add_item(engine, "SH1")
    data(claim(client, alice_h, alice))
    age_locks(engine, 31, image)
    assert data(claim(client, bob_h, bob))["ProgramId"] == "SH1"
    message = refused(renew(client, alice_h), 409)
    assert "another user has taken the programme over" in message
    assert data(renew(client, bob_h))["RenewedImages"] == 1


def test_renewal_refusals(client: TestClient, token_for, engine: Engine) -> None:
    alice, alice_h = token_for("operator")
    _, bob_h = token_for("operator")
    _, qa_h = token_for("qa")
    add_item(engine, "SH1")
    add_item(engine, "SH2", age=timedelta(minutes=-5))
    data(claim(client, alice_h, alice))
    assert "locked by another user" in refused(renew(client, bob_h), 409)
    assert "you do not hold" in refused(renew(client, qa_h), 409)
    assert "you do not hold" in refused(renew(client, alice_h, "SH2"), 409)
    refused(renew(client, alice_h, "NO-SUCH"), 404)
    refused(renew(client, alice_h, ""), 400)
    refused(client.get("/image/RenewLock", params={"programId": "SH1"}), 401)
