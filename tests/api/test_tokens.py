"""Signed tokens over HTTP: missing, forged, unsigned, expired or incomplete tokens are
refused; the signing secret is generated once or taken from the settings."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from smartcrop.identity.tokens import issue_token
from tests.support.api import bearer, login, whoami


def b64url(data: dict) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "header",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Bearer a.b.c"},
        {"Authorization": "Basic YWRtaW46YWRtaW4="},
    ],
    ids=["none", "empty", "garbage", "three-garbage-parts", "basic-auth"],
)
def test_missing_or_garbage_tokens_get_401_in_the_envelope(
    client: TestClient, header: dict[str, str]
) -> None:
    response = client.get("/user/UserList", headers=header)
    assert response.status_code == 401
    assert response.json()["IsSuccess"] is False
    assert response.json()["StatusCode"] == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_an_edited_payload_is_refused(client: TestClient, token_for, make_user):
    user_id, headers = token_for("operator")
    token = headers["Authorization"].removeprefix("Bearer ")
    head, payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    # Promote ourselves to admin, keep the old signature.
    forged = ".".join([head, b64url({**claims, "role": "admin"}), signature])
    assert client.get("/user/UserList", headers=bearer(forged)).status_code == 401
    # Or pretend to be another user.
    other_id, _, _ = make_user("admin")
    forged = ".".join([head, b64url({**claims, "sub": str(other_id)}), signature])
    assert client.get("/user/UserList", headers=bearer(forged)).status_code == 401


def test_a_token_signed_with_another_secret_is_refused(
    client: TestClient, token_for
) -> None:
    user_id, _ = token_for("admin")
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "role": "admin",
        "ver": 1,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
    }
    forged = jwt.encode(claims, "an attacker's guess at the secret!", "HS256")
    assert client.get("/user/UserList", headers=bearer(forged)).status_code == 401


def test_an_alg_none_token_is_refused(client: TestClient, token_for) -> None:
    user_id, _ = token_for("admin")
    now = int(datetime.now(UTC).timestamp())
    claims = {"sub": str(user_id), "role": "admin", "ver": 1, "iat": now}
    claims["exp"] = now + 3600
    unsigned = b64url({"alg": "none", "typ": "JWT"}) + "." + b64url(claims) + "."
    assert client.get("/user/UserList", headers=bearer(unsigned)).status_code == 401


def test_an_expired_token_is_refused(client: TestClient, token_for, api_settings):
    user_id, headers = token_for("admin")
    assert client.get("/user/UserList", headers=headers).status_code == 200
    expired = issue_token(
        api_settings,
        user_id=user_id,
        role="admin",
        token_version=1,
        now=datetime.now(UTC) - timedelta(hours=9),
    )
    response = client.get("/user/UserList", headers=bearer(expired))
    assert response.status_code == 401
    # The same secret and user with a fresh time is fine: only expiry refused it.
    fresh = issue_token(api_settings, user_id=user_id, role="admin", token_version=1)
    assert client.get("/user/UserList", headers=bearer(fresh)).status_code == 200


def test_a_token_without_exp_or_sub_is_refused(
    client: TestClient, token_for, api_settings
) -> None:
    from smartcrop.identity.tokens import signing_secret

    user_id, _ = token_for("admin")
    secret = signing_secret(api_settings)
    now = int(datetime.now(UTC).timestamp())
    no_exp = jwt.encode(
        {"sub": str(user_id), "ver": 1, "iat": now}, secret, algorithm="HS256"
    )
    no_sub = jwt.encode({"ver": 1, "iat": now, "exp": now + 60}, secret, "HS256")
    for token in (no_exp, no_sub):
        assert client.get("/user/UserList", headers=bearer(token)).status_code == 401


# --- the signing secret ---


def test_a_dev_secret_is_generated_once_private_and_shared_by_processes(
    db_url: str, settings_for, make_user, tmp_path: Path
) -> None:
    settings = settings_for(db_url)
    secret_file = settings.smartcrop_service.auth.secret_file
    assert not secret_file.exists()
    _, email, password = make_user("admin")
    with TestClient(create_app(settings, db_url)) as first:
        token = login(first, email, password).json()["Data"]["Token"]
    assert secret_file.exists()
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert len(secret_file.read_text().strip()) >= 32
    # Another process with the same settings reads the same secret: the token holds.
    script = (
        "import sys, jwt; jwt.decode(sys.argv[2], open(sys.argv[1]).read().strip(),"
        " algorithms=['HS256']); print('ok')"
    )
    checked = subprocess.run(
        [sys.executable, "-c", script, str(secret_file), token],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONHASHSEED": "7"},
    )
    assert checked.stdout.strip() == "ok", checked.stderr


def test_a_configured_secret_is_used_and_no_file_is_written(
    db_url: str, settings_for, make_user
) -> None:
    secret = "a production secret of enough length, 0123456789"
    settings = settings_for(db_url, smartcrop_service={"auth": {"jwt_secret": secret}})
    _, email, password = make_user("qa")
    with TestClient(create_app(settings, db_url)) as client:
        token = login(client, email, password).json()["Data"]["Token"]
        assert whoami(client, bearer(token), email).status_code == 200
    assert jwt.decode(token, secret, algorithms=["HS256"])["role"] == "qa"
    assert not settings.smartcrop_service.auth.secret_file.exists()
