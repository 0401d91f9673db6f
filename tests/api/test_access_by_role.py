"""Who may call what (contract 4.5-4.7): every user, role and rule route needs a token
and the right role."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from smartcrop import identity
from tests.support.api import bearer, login


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
