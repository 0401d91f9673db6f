"""Fixtures for API tests: a real app on a fresh database, users, real tokens.

``make_user`` writes users straight through ``smartcrop.identity.create_user`` (as the
CLI does); ``token_for`` then logs in through ``POST /user/Login`` for real, so every
test that uses a token also exercises login and the signed-token path.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from api.app import create_app
from smartcrop.identity.users import create_user

DEFAULT_PASSWORD = "a long test passphrase"

MakeUser = Callable[..., tuple[int, str, str]]
TokenFor = Callable[..., tuple[int, dict[str, str]]]


@pytest.fixture
def api_settings(db_url: str, settings_for):
    return settings_for(db_url)


@pytest.fixture
def api_app(db_url: str, api_settings) -> FastAPI:
    return create_app(api_settings, db_url)


@pytest.fixture
def client(api_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(api_app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def make_user(db_url: str) -> Iterator[MakeUser]:
    """make_user(role, name=..., email=..., password=...) -> (id, email, password)."""
    engine = create_engine(db_url)
    counter = itertools.count(1)

    def make(role: str, **kw: str) -> tuple[int, str, str]:
        n = next(counter)
        email = kw.get("email", f"{role}{n}@example.com")
        password = kw.get("password", DEFAULT_PASSWORD)
        with Session(engine) as session, session.begin():
            user = create_user(
                session,
                name=kw.get("name", f"{role.title()} {n}"),
                email=email,
                password=password,
                role_name=role,
            )
            user_id = user.id
        return user_id, email, password

    yield make
    engine.dispose()


def login(client: TestClient, email: str, password: str):
    return client.post("/user/Login", json={"EmailID": email, "Password": password})


# Any route that needs a valid token of any role.
WHO_AM_I = "/user/UserRoleDetails"


def whoami(client: TestClient, headers: dict[str, str], email: str):
    return client.post(WHO_AM_I, params={"EmailID": email}, headers=headers)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def token_for(client: TestClient, make_user: MakeUser) -> TokenFor:
    """token_for(role, **make_user kw) -> (user id, Authorization headers)."""

    def issue(role: str, **kw: str) -> tuple[int, dict[str, str]]:
        user_id, email, password = make_user(role, **kw)
        response = login(client, email, password)
        assert response.status_code == 200, response.text
        token = response.json()["Data"]["Token"]
        return user_id, {"Authorization": f"Bearer {token}"}

    return issue
