"""`/user` (contract 4.7) over HTTP: register, update, passwords, lists, soft delete."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from tests.support.api import login


@pytest.fixture
def admin(token_for) -> tuple[int, dict[str, str]]:
    return token_for("admin", email="boss@example.com", name="Boss")


def register(client: TestClient, headers, **fields):
    body = {
        "UserName": "Nina",
        "EmailID": "nina@example.com",
        "Password": "nina's long password",
        "RoleName": "qa",
        **fields,
    }
    return client.post("/user/Register", json=body, headers=headers)


def no_secret_in(texts: list[str], *secrets: str) -> None:
    for raw in texts:
        assert "$argon2" not in raw
        assert "passwordhash" not in raw.lower()
        for secret in secrets:
            assert secret not in raw


def test_register_then_the_new_user_logs_in(client: TestClient, admin) -> None:
    _, headers = admin
    response = register(client, headers)
    assert response.status_code == 200, response.text
    data = response.json()["Data"]
    assert data == {
        "UserId": data["UserId"],
        "UserName": "Nina",
        "EmailID": "nina@example.com",
        "RoleName": "qa",
        "IsActive": True,
    }
    logged_in = login(client, "nina@example.com", "nina's long password")
    assert logged_in.status_code == 200
    assert logged_in.json()["Data"]["UserId"] == data["UserId"]
    no_secret_in([response.text], "nina's long password")


def test_register_refuses_a_duplicate_email_in_any_case(
    client: TestClient, admin
) -> None:
    _, headers = admin
    assert register(client, headers).status_code == 200
    again = register(client, headers, EmailID="NINA@example.COM", UserName="Other")
    assert again.status_code == 409
    assert "already exists" in again.json()["Message"]
    assert again.json()["IsSuccess"] is False


def test_register_refuses_a_short_password_an_unknown_role_and_bad_bodies(
    client: TestClient, admin
) -> None:
    _, headers = admin
    short = register(client, headers, Password="short1234")  # 9 characters
    assert short.status_code == 400
    assert "at least 10 characters" in short.json()["Message"]
    unknown_role = register(client, headers, RoleName="wizard")
    assert unknown_role.status_code == 400
    assert "wizard" in unknown_role.json()["Message"]
    not_an_email = register(client, headers, EmailID="nina")
    assert not_an_email.status_code == 400
    missing = client.post("/user/Register", json={"UserName": "X"}, headers=headers)
    assert missing.status_code == 422
    assert missing.json()["IsSuccess"] is False
    nul = register(client, headers, UserName="Ni\x00na")
    assert nul.status_code == 422
    # None of those created anybody.
    emails = [
        u["EmailID"]
        for u in client.get("/user/UserList", headers=headers).json()["Data"]
    ]
    assert emails == ["boss@example.com"]


def test_an_unknown_role_is_the_same_400_on_register_and_update(
    client: TestClient, admin, make_user
) -> None:
    # A RoleName that names no role is a bad value in the body (contract: 400), the
    # same on both routes; 404 stays for the user the request is about.
    _, headers = admin
    user_id, _, _ = make_user("operator")
    answers = {
        "Register": register(client, headers, RoleName=" Wizard "),
        "Update": client.post(
            "/user/Update",
            json={"UserId": user_id, "RoleName": " Wizard "},
            headers=headers,
        ),
    }
    for route, response in answers.items():
        assert response.status_code == 400, (route, response.text)
        body = response.json()
        assert body["IsSuccess"] is False and body["StatusCode"] == 400, route
        assert body["Message"] == "there is no role named 'Wizard'", route
    # A known role written with other case or spaces is found on both routes.
    assert register(client, headers, RoleName=" QA ").status_code == 200
    again = client.post(
        "/user/Update", json={"UserId": user_id, "RoleName": " QA "}, headers=headers
    )
    assert again.status_code == 200
    assert again.json()["Data"]["RoleName"] == "qa"


def test_user_list_shows_everybody_and_never_a_password_or_hash(
    client: TestClient, admin, make_user
) -> None:
    admin_id, headers = admin
    op_id, op_email, op_password = make_user("operator", name="Otto")
    listed = client.get("/user/UserList", headers=headers)
    assert listed.status_code == 200
    assert listed.json()["Data"] == [
        {
            "UserId": admin_id,
            "UserName": "Boss",
            "EmailID": "boss@example.com",
            "RoleName": "admin",
            "IsActive": True,
        },
        {
            "UserId": op_id,
            "UserName": "Otto",
            "EmailID": op_email,
            "RoleName": "operator",
            "IsActive": True,
        },
    ]
    no_secret_in([listed.text], op_password)


def test_update_changes_only_the_given_fields(
    client: TestClient, admin, make_user
) -> None:
    _, headers = admin
    user_id, email, password = make_user("operator", name="Olaf")
    renamed = client.post(
        "/user/Update", json={"UserId": user_id, "UserName": "Olaf B."}, headers=headers
    )
    assert renamed.status_code == 200
    assert renamed.json()["Data"] == {
        "UserId": user_id,
        "UserName": "Olaf B.",
        "EmailID": email,
        "RoleName": "operator",
        "IsActive": True,
    }
    # The password was not touched by a rename.
    assert login(client, email, password).status_code == 200
    moved = client.post(
        "/user/Update", json={"UserId": user_id, "RoleName": "QA"}, headers=headers
    )
    assert moved.json()["Data"]["RoleName"] == "qa"
    assert moved.json()["Data"]["UserName"] == "Olaf B."
    off = client.post(
        "/user/Update", json={"UserId": user_id, "IsActive": False}, headers=headers
    )
    assert off.json()["Data"]["IsActive"] is False
    assert login(client, email, password).status_code == 401
    on = client.post(
        "/user/Update", json={"UserId": user_id, "IsActive": True}, headers=headers
    )
    assert on.json()["Data"]["IsActive"] is True
    assert login(client, email, password).status_code == 200


def test_update_refusals(client: TestClient, admin, make_user) -> None:
    admin_id, headers = admin
    user_id, _, _ = make_user("operator")
    unknown = client.post("/user/Update", json={"UserId": 9999}, headers=headers)
    assert unknown.status_code == 404
    short = client.post(
        "/user/Update", json={"UserId": user_id, "Password": "tiny"}, headers=headers
    )
    assert short.status_code == 400
    no_role = client.post(
        "/user/Update", json={"UserId": user_id, "RoleName": "wizard"}, headers=headers
    )
    assert no_role.status_code == 400
    huge = client.post("/user/Update", json={"UserId": 2**40}, headers=headers)
    assert huge.status_code == 422
    # The only admin cannot remove themself: nobody could administer any more.
    for change in ({"IsActive": False}, {"RoleName": "operator"}):
        last = client.post(
            "/user/Update", json={"UserId": admin_id, **change}, headers=headers
        )
        assert last.status_code == 409
        assert "last active admin" in last.json()["Message"]
    assert (
        client.post(
            "/user/Delete", json={"UserId": admin_id}, headers=headers
        ).status_code
        == 409
    )
    assert client.get("/user/UserList", headers=headers).status_code == 200


def test_delete_is_soft_and_stops_login_and_tokens(
    client: TestClient, admin, make_user, db_url: str
) -> None:
    _, headers = admin
    user_id, email, password = make_user("qa")
    token = login(client, email, password).json()["Data"]["Token"]
    deleted = client.post("/user/Delete", json={"UserId": user_id}, headers=headers)
    assert deleted.status_code == 200
    assert deleted.json()["IsSuccess"] is True
    listed = client.get("/user/UserList", headers=headers).json()["Data"]
    assert {"UserId": user_id, "IsActive": False}.items() <= next(
        u for u in listed if u["UserId"] == user_id
    ).items()
    assert login(client, email, password).status_code == 401
    assert (
        client.get(
            "/role/Get", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 401
    )
    engine = create_engine(db_url)
    with engine.connect() as conn:
        still_there = conn.execute(
            text("SELECT isactive, tokenversion FROM smartcrop_user WHERE id = :id"),
            {"id": user_id},
        ).one()
    engine.dispose()
    assert still_there == (False, 2)
    unknown = client.post("/user/Delete", json={"UserId": 424242}, headers=headers)
    assert unknown.status_code == 404


def test_update_password_rules(client: TestClient, admin, make_user) -> None:
    _, admin_headers = admin
    _, email, password = make_user("operator")
    _, other_email, other_password = make_user("qa")
    token = login(client, email, password).json()["Data"]["Token"]
    mine = {"Authorization": f"Bearer {token}"}

    def change(headers, **body):
        return client.post("/user/UpdatePassword", json=body, headers=headers)

    # Not someone else's, even with their right old password.
    assert (
        change(
            mine,
            EmailID=other_email,
            OldPassword=other_password,
            NewPassword="hijacked password!",
        ).status_code
        == 403
    )
    # Not without the old password, not with a wrong one, not too short.
    assert (
        change(mine, EmailID=email, NewPassword="new long password").status_code == 400
    )
    wrong = change(
        mine, EmailID=email, OldPassword="not it at all", NewPassword="new long pw!"
    )
    assert wrong.status_code == 400
    assert "old password is wrong" in wrong.json()["Message"]
    short = change(mine, EmailID=email, OldPassword=password, NewPassword="short")
    assert short.status_code == 400
    assert "at least 10" in short.json()["Message"]
    assert login(client, email, password).status_code == 200  # nothing changed yet

    # An admin resets anyone's password without the old one.
    reset = change(admin_headers, EmailID=other_email, NewPassword="set by an admin!")
    assert reset.status_code == 200
    assert login(client, other_email, "set by an admin!").status_code == 200
    assert login(client, other_email, other_password).status_code == 401
    assert (
        change(
            admin_headers, EmailID="nobody@example.com", NewPassword="x" * 12
        ).status_code
        == 404
    )
    no_secret_in([wrong.text, short.text, reset.text], password, "set by an admin!")


def test_user_role_details_for_yourself_or_as_admin(
    client: TestClient, admin, make_user
) -> None:
    _, admin_headers = admin
    _, email, password = make_user("qa")
    _, other_email, _ = make_user("operator")
    token = login(client, email, password).json()["Data"]["Token"]
    mine = {"Authorization": f"Bearer {token}"}

    def details(headers, address):
        return client.post(
            "/user/UserRoleDetails", params={"EmailID": address}, headers=headers
        )

    own = details(mine, email.upper())
    assert own.status_code == 200
    assert own.json()["Data"] == [{"RoleId": 3, "RoleName": "qa"}]
    assert details(mine, other_email).status_code == 403
    # 403 also for an unknown address: a non-admin cannot probe which e-mails exist.
    assert details(mine, "nobody@example.com").status_code == 403
    as_admin = details(admin_headers, other_email)
    assert as_admin.json()["Data"] == [{"RoleId": 2, "RoleName": "operator"}]
    assert details(admin_headers, "nobody@example.com").status_code == 404
    # A missing query parameter is bad input (400), not a malformed body (422).
    missing = client.post("/user/UserRoleDetails", headers=admin_headers)
    assert missing.status_code == 400
    assert "EmailID" in missing.json()["Message"]


def test_no_answer_of_the_user_routes_contains_a_password_or_hash(
    client: TestClient, admin, make_user
) -> None:
    _, headers = admin
    password = "unique-password-4711"
    registered = register(client, headers, EmailID="p@example.com", Password=password)
    user_id = registered.json()["Data"]["UserId"]
    texts = [
        registered.text,
        login(client, "p@example.com", password).text,
        login(client, "p@example.com", password + "!").text,
        client.get("/user/UserList", headers=headers).text,
        client.post(
            "/user/UserRoleDetails",
            params={"EmailID": "p@example.com"},
            headers=headers,
        ).text,
        client.post(
            "/user/Update",
            json={"UserId": user_id, "Password": password + "2"},
            headers=headers,
        ).text,
        register(client, headers, EmailID="p@example.com", Password=password).text,
    ]
    no_secret_in(texts, password)


def test_guessing_the_old_password_is_throttled(client: TestClient, make_user) -> None:
    _, email, password = make_user("operator")
    token = login(client, email, password).json()["Data"]["Token"]
    mine = {"Authorization": f"Bearer {token}"}
    body = {"EmailID": email, "NewPassword": "a brand new password"}
    for _ in range(5):
        guess = client.post(
            "/user/UpdatePassword", json={**body, "OldPassword": "guess!"}, headers=mine
        )
        assert guess.status_code == 400
    blocked = client.post(
        "/user/UpdatePassword", json={**body, "OldPassword": password}, headers=mine
    )
    assert blocked.status_code == 429
    assert "try again in" in blocked.json()["Message"]
