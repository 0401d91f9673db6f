"""Who may call what, on every route of the app (contract 4, "Authentication and
roles"). tests/api/test_tokens.py covers the token rules on one route; here every
route is attacked: no token, forged and tampered tokens, and every role on every
route."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from smartcrop.identity.tokens import issue_token, signing_secret
from tests.support.api import DEFAULT_PASSWORD, login
from tests.support.route_roles import (
    NO_ENVELOPE,
    OPEN_PATHS,
    PUBLIC,
    ROLES,
    STATIC_MOUNTS,
    Endpoint,
    api_endpoints,
    other_routes,
)

# Side effects on admin: these start Dagster jobs (tests/api/pipelines/).
RUNS_A_JOB = frozenset(
    p for p in ROLES if p.startswith(("/filewatcher/", "/batchjob/", "/dumpdata/"))
)
# Ends the token it is called with, so a loop over every route with one token skips
# it (tests/api/test_token_revocation.py and tests/security/test_logout.py cover
# it).
ENDS_THE_TOKEN = frozenset({"/user/Logout"})


def _b64(data: dict) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _call(client: TestClient, endpoint: Endpoint, headers: dict[str, str]):
    return client.request(endpoint.method, endpoint.path, headers=headers)


def _assert_refused(response, status: int, where: object) -> None:
    assert response.status_code == status, (where, response.status_code, response.text)
    body = response.json()
    assert (body["IsSuccess"], body["StatusCode"], body["Data"]) == (
        False,
        status,
        None,
    )
    assert body["Message"]
    if status == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.fixture
def endpoints(api_app: FastAPI) -> list[Endpoint]:
    return api_endpoints(api_app)


@pytest.fixture
def protected(endpoints: list[Endpoint]) -> list[Endpoint]:
    return [e for e in endpoints if e.roles != PUBLIC]


def test_every_route_is_in_the_table(api_app: FastAPI, endpoints) -> None:
    assert sorted({e.path for e in endpoints}) == sorted(ROLES)
    assert other_routes(api_app) <= OPEN_PATHS | STATIC_MOUNTS


def test_no_token_is_401_everywhere_but_health_login_and_docs(
    client: TestClient, endpoints
) -> None:
    for endpoint in endpoints:
        response = _call(client, endpoint, {})
        if endpoint.roles == PUBLIC:
            assert response.status_code != 401, endpoint
        else:
            _assert_refused(response, 401, endpoint)
    assert client.get("/health").status_code == 200
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs").status_code == 200


def _forgeries(api_settings, user_id: int, other_id: int) -> dict[str, str]:
    secret = signing_secret(api_settings)
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "role": "admin",
        "ver": 1,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
    }
    good = issue_token(api_settings, user_id=user_id, role="operator", token_version=1)
    head, payload, signature = good.split(".")
    none_head = _b64({"alg": "none", "typ": "JWT"})
    return {
        "garbage": "not-a-token",
        "empty_parts": "..",
        "alg_none": f"{none_head}.{_b64(claims)}.",
        "alg_none_upper": f"{_b64({'alg': 'NONE', 'typ': 'JWT'})}.{_b64(claims)}.",
        "alg_hs512_same_secret": jwt.encode(claims, secret, algorithm="HS512"),
        "wrong_secret": jwt.encode(
            claims, "a guessed secret, long enough for HS256", "HS256"
        ),
        "role_tampered": f"{head}.{_b64({**claims, 'role': 'admin'})}.{signature}",
        "sub_tampered": f"{head}.{_b64({**claims, 'sub': str(other_id)})}.{signature}",
        "signature_stripped": f"{head}.{payload}.",
        "expired": issue_token(
            api_settings,
            user_id=user_id,
            role="operator",
            token_version=1,
            now=now - timedelta(hours=9),
        ),
        "from_the_future_version": issue_token(
            api_settings, user_id=user_id, role="operator", token_version=2
        ),
        "unknown_user": issue_token(
            api_settings, user_id=999_999, role="admin", token_version=1
        ),
        "sub_not_a_number": jwt.encode({**claims, "sub": "1 OR 1=1"}, secret, "HS256"),
        "ver_is_true": jwt.encode({**claims, "ver": True}, secret, "HS256"),
        "no_exp": jwt.encode(
            {k: v for k, v in claims.items() if k != "exp"}, secret, "HS256"
        ),
    }


def test_forged_or_tampered_tokens_are_401_on_every_route(
    client: TestClient, protected, make_user, api_settings
) -> None:
    user_id, _, _ = make_user("operator")
    admin_id, _, _ = make_user("admin")
    for name, token in _forgeries(api_settings, user_id, admin_id).items():
        for endpoint in protected:
            _assert_refused(
                _call(client, endpoint, _bearer(token)), 401, (name, endpoint)
            )


def test_operator_and_qa_get_403_wherever_their_role_is_not_allowed(
    client: TestClient, protected, token_for
) -> None:
    tokens = {role: token_for(role)[1] for role in ("operator", "qa")}
    checked = 0
    for endpoint in protected:
        if endpoint.path in ENDS_THE_TOKEN:
            continue
        for role, headers in tokens.items():
            response = _call(client, endpoint, headers)
            if role in endpoint.roles:
                assert response.status_code not in (401, 403), (role, endpoint)
            else:
                _assert_refused(response, 403, (role, endpoint))
                checked += 1
    admin_routes = [e for e in protected if e.roles == frozenset({"admin"})]
    assert len(admin_routes) >= 19 and checked >= 2 * len(admin_routes)


def test_admin_passes_every_role_check(client: TestClient, protected, token_for):
    _, headers = token_for("admin")
    for endpoint in protected:
        if endpoint.path in RUNS_A_JOB | ENDS_THE_TOKEN:
            continue  # allowed, and covered elsewhere (real runs; logout)
        response = _call(client, endpoint, headers)
        assert response.status_code not in (401, 403, 500), (endpoint, response.text)


def test_a_valid_token_claiming_admin_gets_the_role_the_database_says(
    client: TestClient, protected, make_user, api_settings
) -> None:
    """Even a correctly signed token (a leaked secret, an old token) that claims
    role admin is worth only the user's role now."""
    user_id, _, _ = make_user("operator")
    token = issue_token(api_settings, user_id=user_id, role="admin", token_version=1)
    for endpoint in protected:
        if "operator" not in endpoint.roles:
            _assert_refused(_call(client, endpoint, _bearer(token)), 403, endpoint)


def test_a_demoted_or_deactivated_admin_loses_access_at_once(
    client: TestClient, token_for, make_user, db_url: str
) -> None:
    _, root = token_for("admin")
    demoted_id, demoted = token_for("admin")
    gone_id, gone = token_for("admin")
    assert client.get("/user/UserList", headers=demoted).status_code == 200
    update = {"UserId": demoted_id, "RoleName": "operator"}
    assert client.post("/user/Update", json=update, headers=root).status_code == 200
    _assert_refused(client.get("/user/UserList", headers=demoted), 403, "demoted")
    assert client.post(
        "/user/Delete", json={"UserId": gone_id}, headers=root
    ).is_success
    _assert_refused(client.get("/user/UserList", headers=gone), 401, "deactivated")
    engine = create_engine(db_url)
    with engine.connect() as conn:
        role = conn.execute(
            text(
                "SELECT r.rolename FROM smartcrop_user u JOIN smartcrop_role r"
                " ON r.id = u.roleid WHERE u.id = :id"
            ),
            {"id": demoted_id},
        ).scalar_one()
    engine.dispose()
    assert role == "operator"


def test_escalation_attempts_by_an_operator_are_refused(
    client: TestClient, token_for, make_user
) -> None:
    me, my_email, my_password = make_user("operator")
    token = login(client, my_email, my_password).json()["Data"]["Token"]
    headers = _bearer(token)
    admin_id, admin_email, _ = make_user("admin")
    attempts = [
        ("POST", "/user/Update", {"json": {"UserId": me, "RoleName": "admin"}}),
        ("POST", "/user/Update", {"json": {"UserId": admin_id, "Password": "x" * 12}}),
        (
            "POST",
            "/user/Register",
            {
                "json": {
                    "UserName": "Me Again",
                    "EmailID": "me2@example.com",
                    "Password": "x" * 12,
                    "RoleName": "admin",
                }
            },
        ),
        (
            "POST",
            "/role/Update",
            {"json": {"RoleName": "operator", "NewRoleName": "admin"}},
        ),
        (
            "POST",
            "/user/UpdatePassword",
            {"json": {"EmailID": admin_email, "NewPassword": "taken over!!"}},
        ),
        ("POST", "/user/UserRoleDetails", {"params": {"EmailID": admin_email}}),
        (
            "GET",
            "/image/GetImageInfo",
            {"params": {"providerName": "NBCU", "user": admin_id}},
        ),
        ("GET", "/image/UpdateUserLockStatus", {"params": {"userId": admin_id}}),
        ("GET", "/role/QCdisable", {"params": {"status": 1}}),
    ]
    for method, path, kwargs in attempts:
        response = client.request(method, path, headers=headers, **kwargs)
        _assert_refused(response, 403, (method, path, kwargs))
    # The admin's password still works; the operator is still an operator.
    assert login(client, admin_email, DEFAULT_PASSWORD).status_code == 200
    mine = client.post(
        "/user/UserRoleDetails", params={"EmailID": my_email}, headers=headers
    )
    assert [r["RoleName"] for r in mine.json()["Data"]] == ["operator"]


def test_a_qa_user_cannot_report_on_someone_else(client: TestClient, token_for) -> None:
    other, _ = token_for("operator")
    _, qa = token_for("qa")
    for path in ("/report/CroppedImageReport", "/report/CroppedImageReportDownLoad"):
        response = client.get(
            path,
            params={"fromDate": "2026-01-01", "toDate": "2026-12-31", "userId": other},
            headers=qa,
        )
        _assert_refused(response, 403, path)


def test_static_mounts_do_not_serve_files_outside_their_folders(
    client: TestClient,
) -> None:
    for mount in sorted(STATIC_MOUNTS):
        for attack in (
            "/../../../../etc/passwd",
            "/..%2f..%2f..%2f..%2fetc%2fpasswd",
            "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
            "/....//....//etc/passwd",
        ):
            response = client.get(mount + attack)
            assert response.status_code in (400, 404), (mount, attack)
            assert "root:x:0:0" not in response.text


def test_error_answers_use_the_envelope(client: TestClient, protected) -> None:
    for endpoint in protected:
        response = _call(client, endpoint, {})
        if endpoint.path not in NO_ENVELOPE:
            assert set(response.json()) == {
                "IsSuccess",
                "StatusCode",
                "Message",
                "Data",
            }
