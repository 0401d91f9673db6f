"""`/role` (contract 4.5, with the QA toggle) and `/rule` (4.6) over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from smartcrop.db.models import ProgramImage


@pytest.fixture
def admin(token_for) -> dict[str, str]:
    return token_for("admin")[1]


def role_names(client: TestClient, headers) -> list[str]:
    response = client.get("/role/Get", headers=headers)
    assert response.status_code == 200
    return [r["RoleName"] for r in response.json()["Data"]]


def test_get_lists_the_built_in_roles(client: TestClient, admin) -> None:
    response = client.get("/role/Get", headers=admin)
    assert response.json()["Data"] == [
        {"Id": 1, "RoleName": "admin", "Status": 1},
        {"Id": 2, "RoleName": "operator", "Status": 1},
        {"Id": 3, "RoleName": "qa", "Status": 1},
    ]


def test_create_rename_delete_and_recreate_a_role(client: TestClient, admin) -> None:
    created = client.post("/role/Create", json={"RoleName": "Reviewer"}, headers=admin)
    assert created.status_code == 200
    assert created.json()["Data"]["RoleName"] == "Reviewer"
    assert created.json()["Data"]["Status"] == 1
    assert role_names(client, admin) == ["admin", "operator", "qa", "Reviewer"]

    renamed = client.post(
        "/role/Update",
        json={"RoleName": "reviewer", "NewRoleName": "Senior Reviewer"},
        headers=admin,
    )
    assert renamed.status_code == 200
    assert renamed.json()["Data"]["Id"] == created.json()["Data"]["Id"]
    assert role_names(client, admin)[-1] == "Senior Reviewer"

    deleted = client.post(
        "/role/Delete", json={"RoleName": "Senior Reviewer"}, headers=admin
    )
    assert deleted.status_code == 200
    assert role_names(client, admin) == ["admin", "operator", "qa"]
    gone = client.post(
        "/role/Delete", json={"RoleName": "Senior Reviewer"}, headers=admin
    )
    assert gone.status_code == 404
    again = client.post(
        "/role/Create", json={"RoleName": "Senior Reviewer"}, headers=admin
    )
    assert again.status_code == 200
    assert role_names(client, admin)[-1] == "Senior Reviewer"


def test_role_refusals(client: TestClient, admin) -> None:
    def post(path: str, **body: str):
        return client.post(path, json=body, headers=admin)

    duplicate = post("/role/Create", RoleName="QA")
    assert duplicate.status_code == 409
    assert "already exists" in duplicate.json()["Message"]
    assert post("/role/Create", RoleName="   ").status_code == 400
    assert post("/role/Create", RoleName="x" * 65).status_code == 400
    assert post("/role/Create").status_code == 422
    assert post("/role/Create", RoleName="Editor").status_code == 200
    taken = post("/role/Update", RoleName="Editor", NewRoleName="operator")
    assert taken.status_code == 409
    unknown = post("/role/Update", RoleName="Nobody", NewRoleName="Somebody")
    assert unknown.status_code == 404
    for builtin in ("admin", "operator", "qa"):
        refused = post("/role/Delete", RoleName=builtin)
        assert refused.status_code == 409
        assert "built-in" in refused.json()["Message"]
        renamed = post("/role/Update", RoleName=builtin, NewRoleName=builtin + "2")
        assert renamed.status_code == 409
    assert role_names(client, admin) == ["admin", "operator", "qa", "Editor"]


def test_a_role_a_user_has_cannot_be_deleted(
    client: TestClient, admin, make_user
) -> None:
    assert client.post(
        "/role/Create", json={"RoleName": "Editor"}, headers=admin
    ).is_success
    user_id, _, _ = make_user("Editor")
    refused = client.post("/role/Delete", json={"RoleName": "editor"}, headers=admin)
    assert refused.status_code == 409
    assert "given to 1 user" in refused.json()["Message"]
    # Once the user has another role, the role can go.
    moved = client.post(
        "/user/Update", json={"UserId": user_id, "RoleName": "qa"}, headers=admin
    )
    assert moved.status_code == 200
    assert client.post(
        "/role/Delete", json={"RoleName": "editor"}, headers=admin
    ).is_success


# --- the QA toggle ---


def qc_status(client: TestClient, headers) -> bool:
    response = client.get("/role/QCdisablestatus", headers=headers)
    assert response.status_code == 200
    return response.json()["Data"]["QCDisabled"]


def test_qa_can_be_disabled_and_enabled(client: TestClient, admin) -> None:
    assert qc_status(client, admin) is False
    off = client.get("/role/QCdisable", params={"status": 1}, headers=admin)
    assert off.status_code == 200
    assert off.json()["Data"] == {"QCDisabled": True}
    assert qc_status(client, admin) is True
    on = client.get("/role/QCdisable", params={"status": 0}, headers=admin)
    assert on.json()["Data"] == {"QCDisabled": False}
    assert qc_status(client, admin) is False
    bad = client.get("/role/QCdisable", params={"status": 5}, headers=admin)
    assert bad.status_code == 400
    # A missing or non-numeric query parameter is bad input (400), not a body (422).
    assert client.get("/role/QCdisable", headers=admin).status_code == 400
    not_int = client.get("/role/QCdisable", params={"status": "x"}, headers=admin)
    assert not_int.status_code == 400
    assert qc_status(client, admin) is False


def test_qa_cannot_be_disabled_while_a_row_is_locked_in_qa(
    client: TestClient, token_for, db_url: str
) -> None:
    admin_id, admin = token_for("admin")
    engine = create_engine(db_url)
    with Session(engine) as session, session.begin():
        row = ProgramImage(
            link_object_id="SH012345670000",
            providername="NBCU",
            imageurl="https://example.com/a.jpg",
            status=2,
            currentstate=1,
            lockedby=admin_id,
            lockedat=datetime.now(UTC),
        )
        session.add(row)
    refused = client.get("/role/QCdisable", params={"status": 1}, headers=admin)
    assert refused.status_code == 409
    assert "being reviewed" in refused.json()["Message"]
    assert qc_status(client, admin) is False
    # A row waiting in the QA queue but not locked does not block it.
    with Session(engine) as session, session.begin():
        locked = session.scalar(select(ProgramImage))
        locked.currentstate, locked.lockedby, locked.lockedat = 0, None, None
    engine.dispose()
    allowed = client.get("/role/QCdisable", params={"status": 1}, headers=admin)
    assert allowed.status_code == 200
    assert qc_status(client, admin) is True


# --- rules ---


def test_rules_create_get_update_and_soft_delete(
    client: TestClient, admin, db_url: str
) -> None:
    created = client.post(
        "/rule/Create", json={"Status": 2, "Percentage": 30}, headers=admin
    )
    assert created.status_code == 200
    rule = created.json()["Data"]
    assert rule == {"Id": rule["Id"], "Status": 2, "Percentage": 30, "IsActive": True}
    assert client.get("/rule/Get", headers=admin).json()["Data"] == [rule]

    updated = client.post(
        "/rule/Update", json={"Id": rule["Id"], "Percentage": 45}, headers=admin
    )
    assert updated.json()["Data"] == {**rule, "Percentage": 45}
    full = client.post(
        "/rule/Update",
        json={"Id": rule["Id"], "Status": 3, "Percentage": 0, "IsActive": True},
        headers=admin,
    )
    assert full.json()["Data"] == {**rule, "Status": 3, "Percentage": 0}

    deleted = client.post("/rule/Delete", json={"Id": rule["Id"]}, headers=admin)
    assert deleted.status_code == 200
    assert client.get("/rule/Get", headers=admin).json()["Data"] == []
    engine = create_engine(db_url)
    with engine.connect() as conn:
        kept = conn.execute(
            text("SELECT isactive FROM smartcrop_rule WHERE id = :id"),
            {"id": rule["Id"]},
        ).scalar_one()
    engine.dispose()
    assert kept is False  # soft: the row stays

    # Update can bring it back.
    revived = client.post(
        "/rule/Update", json={"Id": rule["Id"], "IsActive": True}, headers=admin
    )
    assert revived.json()["Data"]["IsActive"] is True
    assert len(client.get("/rule/Get", headers=admin).json()["Data"]) == 1


def test_get_lists_only_active_rules_in_id_order(client: TestClient, admin) -> None:
    ids = [
        client.post(
            "/rule/Create", json={"Status": 2, "Percentage": p}, headers=admin
        ).json()["Data"]["Id"]
        for p in (10, 20, 30)
    ]
    client.post("/rule/Delete", json={"Id": ids[1]}, headers=admin)
    listed = client.get("/rule/Get", headers=admin).json()["Data"]
    assert [(r["Id"], r["Percentage"]) for r in listed] == [(ids[0], 10), (ids[2], 30)]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"Status": 2, "Percentage": 101}, 400),
        ({"Status": 2, "Percentage": -1}, 400),
        ({"Status": 9, "Percentage": 50}, 400),
        ({"Status": 2, "Percentage": "half"}, 422),
        ({"Status": 2}, 422),
        ({"Status": 2, "Percentage": 10**12}, 422),
    ],
)
def test_rule_create_validation(client: TestClient, admin, body, status) -> None:
    response = client.post("/rule/Create", json=body, headers=admin)
    assert response.status_code == status
    assert response.json()["IsSuccess"] is False
    assert response.json()["StatusCode"] == status
    assert client.get("/rule/Get", headers=admin).json()["Data"] == []


def test_rule_update_and_delete_refusals(client: TestClient, admin) -> None:
    rule_id = client.post(
        "/rule/Create", json={"Status": 2, "Percentage": 5}, headers=admin
    ).json()["Data"]["Id"]
    too_much = client.post(
        "/rule/Update", json={"Id": rule_id, "Percentage": 150}, headers=admin
    )
    assert too_much.status_code == 400
    assert "between 0 and 100" in too_much.json()["Message"]
    unknown = client.post("/rule/Update", json={"Id": 999}, headers=admin)
    assert unknown.status_code == 404
    assert (
        client.post("/rule/Delete", json={"Id": 999}, headers=admin).status_code == 404
    )
    assert client.get("/rule/Get", headers=admin).json()["Data"][0]["Percentage"] == 5
