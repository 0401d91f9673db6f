"""Logging in, signed tokens, revocation and throttling, over HTTP with real tokens."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from api.app import create_app
from smartcrop import identity
from smartcrop.errors import TooManyRequests, Unauthorized
from smartcrop.identity.tokens import issue_token
from tests.support.api import login

# Any route that needs a valid token of any role.
WHO_AM_I = "/user/UserRoleDetails"


def whoami(client: TestClient, headers: dict[str, str], email: str):
    return client.post(WHO_AM_I, params={"EmailID": email}, headers=headers)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def b64url(data: dict) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


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


@pytest.fixture
def session(db_url: str):
    engine = create_engine(db_url)
    with Session(engine, expire_on_commit=False) as session:
        yield session
        session.commit()
    engine.dispose()


def test_an_address_is_throttled_across_accounts_and_freed_by_the_window(
    session: Session, api_settings, make_user
) -> None:
    _, email, password = make_user("admin")
    t0 = datetime.now(UTC)
    window = timedelta(seconds=30)
    kw = {"client_address": "203.0.113.9", "address_limit": 3, "window": window}
    for n in range(3):
        with pytest.raises(Unauthorized):
            identity.login(
                session,
                api_settings,
                email=f"x{n}@example.com",
                password="p",
                now=t0,
                **kw,
            )
    with pytest.raises(TooManyRequests, match="try again in 1 minute"):
        identity.login(
            session, api_settings, email=email, password=password, now=t0, **kw
        )
    # Another address is unaffected.
    result = identity.login(
        session,
        api_settings,
        email=email,
        password=password,
        now=t0,
        **{**kw, "client_address": "198.51.100.1"},
    )
    assert result.role == "admin"
    later = t0 + window + timedelta(seconds=1)
    result = identity.login(
        session, api_settings, email=email, password=password, now=later, **kw
    )
    assert result.user_id > 0


def test_simultaneous_guesses_never_exceed_the_limit(
    db_url: str, api_settings, make_user
) -> None:
    _, email, _ = make_user("operator")
    engine = create_engine(db_url, pool_size=12)
    outcomes: list[str] = []
    barrier = threading.Barrier(12)

    def guess() -> None:
        with Session(engine, expire_on_commit=False) as s:
            barrier.wait()
            try:
                identity.login(
                    s, api_settings, email=email, password="guess!", client_address=None
                )
            except Unauthorized:
                outcomes.append("401")
            except TooManyRequests:
                outcomes.append("429")

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    engine.dispose()
    assert len(outcomes) == 12
    # At most five password checks ran; every other guess was throttled.
    assert outcomes.count("401") <= 5
    assert outcomes.count("429") >= 7


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


# --- who may call what: every route of 4.5-4.7 ---


class Prerequisites:
    """Rows a call needs, made directly in the database (not through the API)."""

    def __init__(self, db_url: str, make_user) -> None:
        self.engine = create_engine(db_url)
        self.make_user = make_user
        self.n = 0
        self.me: tuple[int, str, str] = (0, "", "")

    def fresh(self, word: str) -> str:
        self.n += 1
        return f"{word}{self.n}"

    def user_id(self) -> int:
        return self.make_user("operator")[0]

    def role(self) -> str:
        name = self.fresh("Temp")
        with Session(self.engine) as s, s.begin():
            identity.create_role(s, name)
        return name

    def rule(self) -> int:
        with Session(self.engine) as s, s.begin():
            return identity.create_rule(s, status=2, percentage=10, actor_id=None)["Id"]


ALL = ("admin", "operator", "qa")
ADMIN_ONLY = ("admin",)
ROUTES = [
    (
        "POST",
        "/user/Register",
        ADMIN_ONLY,
        lambda p: {
            "json": {
                "UserName": "New",
                "EmailID": p.fresh("new") + "@example.com",
                "Password": "a new long password",
                "RoleName": "operator",
            }
        },
    ),
    (
        "POST",
        "/user/Update",
        ADMIN_ONLY,
        lambda p: {"json": {"UserId": p.user_id(), "UserName": "Renamed"}},
    ),
    (
        "POST",
        "/user/UpdatePassword",
        ALL,
        lambda p: {
            "json": {
                "EmailID": p.me[1],
                "OldPassword": p.me[2],
                "NewPassword": "fresh password!",
            }
        },
    ),
    ("POST", "/user/UserRoleDetails", ALL, lambda p: {"params": {"EmailID": p.me[1]}}),
    ("GET", "/user/UserList", ADMIN_ONLY, lambda p: {}),
    ("POST", "/user/Delete", ADMIN_ONLY, lambda p: {"json": {"UserId": p.user_id()}}),
    (
        "POST",
        "/role/Create",
        ADMIN_ONLY,
        lambda p: {"json": {"RoleName": p.fresh("Role")}},
    ),
    ("POST", "/role/Delete", ADMIN_ONLY, lambda p: {"json": {"RoleName": p.role()}}),
    (
        "POST",
        "/role/Update",
        ADMIN_ONLY,
        lambda p: {"json": {"RoleName": p.role(), "NewRoleName": p.fresh("Renamed")}},
    ),
    ("GET", "/role/Get", ADMIN_ONLY, lambda p: {}),
    ("GET", "/role/QCdisable", ADMIN_ONLY, lambda p: {"params": {"status": 1}}),
    ("GET", "/role/QCdisablestatus", ADMIN_ONLY, lambda p: {}),
    (
        "POST",
        "/rule/Create",
        ADMIN_ONLY,
        lambda p: {"json": {"Status": 2, "Percentage": 25}},
    ),
    ("POST", "/rule/Delete", ADMIN_ONLY, lambda p: {"json": {"Id": p.rule()}}),
    (
        "POST",
        "/rule/Update",
        ADMIN_ONLY,
        lambda p: {"json": {"Id": p.rule(), "Percentage": 50}},
    ),
    ("GET", "/rule/Get", ADMIN_ONLY, lambda p: {}),
]


@pytest.mark.parametrize(
    ("method", "path", "allowed", "build"), ROUTES, ids=[r[1] for r in ROUTES]
)
def test_every_route_needs_a_token_and_the_right_role(
    client: TestClient, make_user, db_url: str, method, path, allowed, build
) -> None:
    prerequisites = Prerequisites(db_url, make_user)
    try:
        prerequisites.me = make_user("qa")
        anonymous = client.request(method, path, **build(prerequisites))
        assert anonymous.status_code == 401, anonymous.text
        assert anonymous.json()["IsSuccess"] is False
        for role in ALL:
            prerequisites.me = make_user(role)
            token = login(client, *prerequisites.me[1:]).json()["Data"]["Token"]
            response = client.request(
                method, path, headers=bearer(token), **build(prerequisites)
            )
            if role in allowed:
                assert response.status_code == 200, (role, response.text)
                assert response.json()["IsSuccess"] is True
            else:
                assert response.status_code == 403, (role, response.text)
                assert response.json()["StatusCode"] == 403
                assert response.json()["Data"] is None
    finally:
        prerequisites.engine.dispose()
