"""Tokens end when they should: a password change, a logout, an admin reset or
deactivation; a role change applies at once; expired revocations are purged."""

from __future__ import annotations

import jwt
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from tests.support.api import bearer, login, whoami


def test_changing_the_password_revokes_older_tokens(
    client: TestClient, make_user
) -> None:
    _, email, password = make_user("qa")
    first = bearer(login(client, email, password).json()["Data"]["Token"])
    second = bearer(login(client, email, password).json()["Data"]["Token"])
    new_password = "another long passphrase"
    changed = client.post(
        "/user/UpdatePassword",
        json={"EmailID": email, "OldPassword": password, "NewPassword": new_password},
        headers=first,
    )
    assert changed.status_code == 200, changed.text
    assert whoami(client, first, email).status_code == 401
    assert whoami(client, second, email).status_code == 401
    assert login(client, email, password).status_code == 401
    renewed = login(client, email, new_password)
    assert renewed.status_code == 200
    assert whoami(client, bearer(renewed.json()["Data"]["Token"]), email).is_success


def test_logout_ends_the_calling_token_at_once_and_only_it(
    client: TestClient, make_user, db_url: str
) -> None:
    _, email, password = make_user("operator")
    first = bearer(login(client, email, password).json()["Data"]["Token"])
    second = bearer(login(client, email, password).json()["Data"]["Token"])

    ended = client.post("/user/Logout", headers=first)

    assert ended.status_code == 200, ended.text
    assert ended.json()["IsSuccess"] is True
    assert whoami(client, first, email).status_code == 401
    assert client.post("/user/Logout", headers=first).status_code == 401
    # The user's other session (another workstation) lives on.
    assert whoami(client, second, email).is_success
    assert client.post("/user/Logout").status_code == 401
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT expiresat > now() FROM smartcrop_revokedtoken")
            ).all()
    finally:
        engine.dispose()
    assert rows == [(True,)]  # kept until the token would have expired


def test_expired_revoked_tokens_are_forgotten_by_the_housekeeping_job(
    client: TestClient, make_user, db_url: str
) -> None:
    from pipelines.maintenance import release_expired_locks_job  # noqa: PLC0415
    from resources import DatabaseResource, SettingsResource  # noqa: PLC0415

    _, email, password = make_user("qa")
    live, old = (login(client, email, password).json()["Data"]["Token"] for _ in "ab")
    for token in (live, old):
        assert client.post("/user/Logout", headers=bearer(token)).is_success
    old_id = jwt.decode(old, options={"verify_signature": False})["jti"]
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:  # as if the old token's expiry had passed
            conn.execute(
                text(
                    "UPDATE smartcrop_revokedtoken SET expiresat = now() - interval"
                    " '1 minute' WHERE tokenid = :id"
                ),
                {"id": old_id},
            )
        result = release_expired_locks_job.execute_in_process(
            resources={
                "database": DatabaseResource(url=db_url),
                "settings": SettingsResource(),
            }
        )
        assert result.success
        assert result.output_for_node("purge_revoked_tokens_op") == 1
        with engine.connect() as conn:
            left = conn.execute(text("SELECT tokenid FROM smartcrop_revokedtoken"))
            ids = [row[0] for row in left]
    finally:
        engine.dispose()
    assert ids == [jwt.decode(live, options={"verify_signature": False})["jti"]]
    assert whoami(client, bearer(live), email).status_code == 401


def test_an_admin_password_reset_and_a_deactivation_revoke_tokens(
    client: TestClient, make_user, token_for
) -> None:
    _, admin = token_for("admin")
    user_id, email, password = make_user("operator")
    token = bearer(login(client, email, password).json()["Data"]["Token"])
    reset = client.post(
        "/user/Update",
        json={"UserId": user_id, "Password": "reset by the admin!"},
        headers=admin,
    )
    assert reset.status_code == 200
    assert whoami(client, token, email).status_code == 401

    token = bearer(login(client, email, "reset by the admin!").json()["Data"]["Token"])
    assert whoami(client, token, email).status_code == 200
    deactivated = client.post(
        "/user/Update", json={"UserId": user_id, "IsActive": False}, headers=admin
    )
    assert deactivated.status_code == 200
    assert whoami(client, token, email).status_code == 401


def test_a_role_change_applies_to_an_existing_token_at_once(
    client: TestClient, make_user, token_for
) -> None:
    _, admin = token_for("admin")
    user_id, email, password = make_user("operator")
    token = bearer(login(client, email, password).json()["Data"]["Token"])
    assert client.get("/user/UserList", headers=token).status_code == 403
    promoted = client.post(
        "/user/Update", json={"UserId": user_id, "RoleName": "admin"}, headers=admin
    )
    assert promoted.status_code == 200
    assert client.get("/user/UserList", headers=token).status_code == 200
