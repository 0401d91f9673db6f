"""Logging in over HTTP: the contract's answer, one 401 for every wrong guess,
throttling, and the first admin made on the command line.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import jwt
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from api.app import create_app
from tests.support.api import bearer, login, whoami


def test_login_answers_the_contract_shape_and_the_token_works(
    client: TestClient, make_user
) -> None:
    user_id, email, password = make_user("operator", name="Olga")
    response = login(client, email.upper(), password)  # e-mail in any case
    assert response.status_code == 200
    body = response.json()
    assert body["IsSuccess"] is True and body["StatusCode"] == 200
    data = body["Data"]
    assert set(data) == {
        "Token",
        "TokenType",
        "ExpiresIn",
        "UserId",
        "UserName",
        "EmailID",
        "RoleName",
    }
    assert data["TokenType"] == "Bearer"
    assert data["ExpiresIn"] == 28800
    assert (data["UserId"], data["UserName"], data["EmailID"], data["RoleName"]) == (
        user_id,
        "Olga",
        email,
        "operator",
    )
    claims = jwt.decode(data["Token"], options={"verify_signature": False})
    assert claims["sub"] == str(user_id)
    assert claims["role"] == "operator"
    assert claims["ver"] == 1
    assert claims["exp"] - claims["iat"] == 28800
    assert jwt.get_unverified_header(data["Token"])["alg"] == "HS256"
    assert whoami(client, bearer(data["Token"]), email).status_code == 200


def test_wrong_email_and_wrong_password_get_the_same_401(
    client: TestClient, make_user
) -> None:
    _, email, password = make_user("qa")
    wrong_password = login(client, email, password + "x")
    wrong_email = login(client, "nobody@example.com", password)
    assert wrong_password.status_code == wrong_email.status_code == 401
    assert wrong_password.json() == wrong_email.json()
    assert wrong_password.json()["IsSuccess"] is False
    assert wrong_password.json()["Data"] is None
    assert "Token" not in wrong_password.text


def test_an_inactive_user_cannot_log_in(client: TestClient, make_user, token_for):
    _, admin = token_for("admin")
    user_id, email, password = make_user("operator")
    assert client.post(
        "/user/Delete", json={"UserId": user_id}, headers=admin
    ).is_success
    refused = login(client, email, password)
    assert refused.status_code == 401
    assert refused.json() == login(client, "nobody@example.com", password).json()


# --- throttling ---


def test_repeated_failures_are_throttled_then_allowed_after_the_window(
    client: TestClient, make_user, db_url: str
) -> None:
    _, email, password = make_user("operator")
    for _ in range(5):
        assert login(client, email, "not the password").status_code == 401
    throttled = login(client, email, password)  # even the right password waits
    assert throttled.status_code == 429
    body = throttled.json()
    assert body["IsSuccess"] is False and body["StatusCode"] == 429
    assert "Too many failed attempts" in body["Message"]
    assert "try again in 15 minutes" in body["Message"]
    # Another account from the same address is not locked out by this one.
    _, other_email, other_password = make_user("qa")
    assert login(client, other_email, other_password).status_code == 200
    # Hammering a throttled account keeps answering 429 ...
    assert login(client, email, password).status_code == 429

    # ... until the window has passed.
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE smartcrop_login_attempt"
                " SET attemptedat = attemptedat - interval '16 minutes'"
            )
        )
    engine.dispose()
    assert login(client, email, password).status_code == 200
    # Success cleared the account's failures: four more mistakes are not throttled.
    for _ in range(4):
        assert login(client, email, "still wrong").status_code == 401
    assert login(client, email, password).status_code == 200


def test_unknown_emails_are_throttled_too(client: TestClient) -> None:
    for _ in range(5):
        assert login(client, "ghost@example.com", "whatever pw").status_code == 401
    assert login(client, "ghost@example.com", "whatever pw").status_code == 429


# --- the first admin from the command line ---


def test_create_admin_on_the_command_line_then_log_in(
    db_url: str, settings_for, tmp_path: Path
) -> None:
    password = "the first admin's passphrase"
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "smartcrop"),
            "create-admin",
            "--email",
            "root@example.com",
            "--name",
            "Root",
        ],
        env={
            **os.environ,
            "DATABASE__URL": db_url,
            "SMARTCROP_ADMIN_PASSWORD": password,
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    with TestClient(create_app(settings_for(db_url), db_url)) as client:
        response = login(client, "root@example.com", password)
        assert response.status_code == 200
        data = response.json()["Data"]
        assert (data["RoleName"], data["UserName"]) == ("admin", "Root")
        users = client.get("/user/UserList", headers=bearer(data["Token"]))
        assert users.status_code == 200
        assert [u["EmailID"] for u in users.json()["Data"]] == ["root@example.com"]
