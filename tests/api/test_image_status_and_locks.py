"""UpdateStatus, the admin unlock, an expired lock taken over and operators claiming at
once, over HTTP (contract 4.1)."""

from __future__ import annotations

import threading
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from smartcrop.identity.tokens import issue_token
from tests.support.work_items import (
    add_item,
    add_rendition,
    add_user,
    age_locks,
    audit_rows,
    snapshot,
    states,
)
from tests.support.workflow_api import (
    claim,
    data,
    live_server,
    qa_claim,
    refused,
    save_body,
    standard_renditions,
)


def test_update_status_by_the_holder_and_the_admin_unlock(
    client: TestClient, token_for, engine: Engine
) -> None:
    _, admin_h = token_for("admin")
    op, op_h = token_for("operator")
    qa, qa_h = token_for("qa")
    a = add_item(engine, "SH1", age=timedelta(hours=1))
    b = add_item(engine, "SH1")
    for image in (a, b):
        add_rendition(engine, image)  # finishing needs one
    data(claim(client, op_h, op))
    moved = data(
        client.get(
            "/image/UpdateStatus?programId=SH1&status=3&currentState=0", headers=op_h
        )
    )
    assert [(i["Status"], i["CurrentState"]) for i in moved["Images"]] == [(2, 0)] * 2

    data(qa_claim(client, qa_h, qa))
    c = add_item(engine, "SH2")
    data(claim(client, op_h, op))
    assert states(engine, a, b, c) == [(2, 1, qa), (2, 1, qa), (1, 1, op)]
    released = data(
        client.get(f"/image/UpdateUserLockStatus?userId={qa}", headers=admin_h)
    )
    assert released == {"UserId": qa, "ReleasedImages": 2}
    own = data(client.get(f"/image/UpdateUserLockStatus?userId={op}", headers=op_h))
    assert own == {"UserId": op, "ReleasedImages": 1}
    assert states(engine, a, b, c) == [(2, 0, None), (2, 0, None), (1, 0, None)]
    assert audit_rows(engine, a)[-1]["action"] == "admin_release"
    assert audit_rows(engine, c)[-1]["action"] == "release"


def test_qa_send_back_and_reject_through_update_status(
    client: TestClient, token_for, engine: Engine
) -> None:
    qa, qa_h = token_for("qa")
    a = add_item(engine, "SH1", status=2)
    b = add_item(engine, "SH2", status=2)
    data(qa_claim(client, qa_h, qa, "SH1"))
    path = "/image/UpdateStatus?programId=SH1&status=1&currentState=0"
    assert "not a reject reason" in refused(
        client.get(path + "&rejectReasonId=99", headers=qa_h), 400
    )
    data(client.get(path + "&rejectReasonId=3", headers=qa_h))
    assert states(engine, a) == [(1, 0, None)]
    assert audit_rows(engine, a)[-1]["rejectreasonid"] == 3
    data(qa_claim(client, qa_h, qa, "SH2"))
    path = "/image/UpdateStatus?programId=SH2&status=4&currentState=0"
    rejected = data(client.get(path + "&rejectReasonId=2", headers=qa_h))
    assert (
        rejected["Images"][0]["Status"],
        rejected["Images"][0]["RejectReasonId"],
    ) == (
        4,
        2,
    )
    assert states(engine, b) == [(4, 0, None)]


@pytest.mark.parametrize(
    ("stage", "status", "action"),
    [(1, 4, "reject"), (2, 4, "qa_reject"), (2, 1, "send_back")],
)
def test_update_status_rejects_and_sends_back_without_a_reason_as_legacy_callers_do(
    client: TestClient, token_for, engine: Engine, stage: int, status: int, action: str
) -> None:
    """Legacy callers send no rejectReasonId: the move records "Other" (7)."""
    user, headers = token_for("operator" if stage == 1 else "qa")
    image = add_item(engine, "SH1", status=stage, state=1, locked_by=user)
    moved = data(
        client.get(
            f"/image/UpdateStatus?programId=SH1&status={status}&currentState=0",
            headers=headers,
        )
    )
    [answered] = moved["Images"]
    assert (answered["Status"], answered["RejectReasonId"]) == (status, 7)
    assert states(engine, image) == [(status, 0, None)]
    last = audit_rows(engine, image)[-1]
    assert (last["action"], last["rejectreasonid"]) == (action, 7)


def test_an_expired_lock_is_taken_over_and_its_holder_refused(
    client: TestClient, token_for, engine: Engine
) -> None:
    alice, alice_h = token_for("operator")
    bob, bob_h = token_for("operator")
    image = add_item(engine, "SH1")
    data(claim(client, alice_h, alice))
    assert claim(client, bob_h, bob).json()["Data"] is None
    age_locks(engine, 29, image)
    assert claim(client, bob_h, bob).json()["Data"] is None  # not yet
    body = save_body("SH1", alice, [(image, 2, None, standard_renditions())])
    age_locks(engine, 2, image)  # now 31 minutes old
    before = snapshot(engine)
    assert "expired" in refused(
        client.post("/image/SaveCropedImages", json=body, headers=alice_h), 409
    )
    assert snapshot(engine) == before
    taken = data(claim(client, bob_h, bob))
    assert taken["Images"][0]["LockedBy"] == bob
    assert "another user" in refused(
        client.post("/image/SaveCropedImages", json=body, headers=alice_h), 409
    )
    expire = [r for r in audit_rows(engine, image) if r["action"] == "expire"]
    assert len(expire) == 1 and expire[0]["userid"] is None


def test_sixteen_operators_claiming_at_once_over_http_never_share_a_programme(
    engine: Engine, api_settings, db_url: str
) -> None:
    expected: dict[str, list[int]] = {}
    for n in range(12):
        pid = f"SH{n:03d}"
        expected[pid] = [
            add_item(engine, pid, age=timedelta(minutes=100 - n, seconds=k))
            for k in range(3)
        ]
    # Sixteen logins would spend most of this test hashing passwords: these users
    # get their (real, signed) tokens from the same function login uses.
    settings = api_settings
    users = []
    for _ in range(16):
        user = add_user(engine, "operator")
        token = issue_token(settings, user_id=user, role="operator", token_version=1)
        users.append((user, {"Authorization": f"Bearer {token}"}))
    barrier = threading.Barrier(len(users))
    results: dict[int, httpx.Response] = {}
    with live_server(create_app(settings, db_url)) as base:

        def run(user: int, headers: dict) -> None:
            with httpx.Client(base_url=base, timeout=60) as http:
                barrier.wait()
                results[user] = http.get(
                    "/image/GetImageInfo",
                    params={"providerName": "NBCU", "user": user},
                    headers=headers,
                )

        threads = [threading.Thread(target=run, args=u) for u in users]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    assert len(results) == 16
    got: dict[str, tuple[int, list[int]]] = {}
    empty = 0
    for user, response in results.items():
        programme = data(response)
        if programme is None:
            empty += 1
            continue
        assert programme["ProgramId"] not in got, "a programme was claimed twice"
        ids = [i["ImageId"] for i in programme["Images"]]
        assert {i["LockedBy"] for i in programme["Images"]} == {user}
        got[programme["ProgramId"]] = (user, ids)
    assert empty == 4
    assert {pid: ids for pid, (_, ids) in got.items()} == expected
    for pid, (user, ids) in got.items():
        assert states(engine, *ids) == [(1, 1, user)] * 3, pid
