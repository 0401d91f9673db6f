"""How much work a request does: dashboard totals exact at every request, and the
SQL statements a claim and a save send (a budget, so waste does not creep back)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from tests.support.work_items import add_item
from tests.support.workflow_api import save_body, standard_renditions

# Statements per request, counted through the app's engine (pool pings, BEGIN and
# COMMIT are not statements here): the user check, the caller's held programme, the
# claim, the answer; the user check, locking the rows, QA routing, the renditions,
# the move, the answer.
CLAIM_BUDGET = 4
SAVE_BUDGET = 6


def totals(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get("/dashboard/Totals", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["Data"]


def test_totals_are_exact_at_every_request(
    client: TestClient, token_for, engine: Engine
) -> None:
    _, headers = token_for("operator")
    add_item(engine, "SH1")
    assert totals(client, headers)["TotalImages"] == 1
    add_item(engine, "SH2", status=3)
    fresh = totals(client, headers)  # no waiting: nothing is cached
    assert (fresh["TotalImages"], fresh["Completed"]) == (2, 1)


def test_totals_are_never_given_to_a_deactivated_user(
    client: TestClient, token_for, engine: Engine
) -> None:
    _, admin = token_for("admin")
    user_id, headers = token_for("operator")
    add_item(engine, "SH1")
    assert totals(client, headers)["TotalImages"] == 1
    deleted = client.post("/user/Delete", json={"UserId": user_id}, headers=admin)
    assert deleted.status_code == 200, deleted.text
    response = client.get("/dashboard/Totals", headers=headers)
    assert response.status_code == 401
    assert response.json()["Data"] is None
    assert totals(client, admin)["TotalImages"] == 1


def test_a_claim_and_a_save_stay_within_their_statement_budgets(
    client: TestClient, api_app: FastAPI, token_for, engine: Engine
) -> None:
    user, headers = token_for("operator")
    for n in range(2):
        add_item(engine, f"SH{n}")
    sent: list[str] = []

    def record(conn, cursor, statement, *_: object) -> None:
        sent.append(" ".join(statement.split())[:120])

    event.listen(api_app.state.engine, "before_cursor_execute", record)
    try:
        for _ in range(2):  # the second round runs with the lookup cache warm
            sent.clear()
            claimed = client.get(
                f"/image/GetImageInfo?providerName=NBCU&user={user}", headers=headers
            )
            assert claimed.status_code == 200, claimed.text
            programme = claimed.json()["Data"]
            claim_statements = list(sent)
            sent.clear()
            body = save_body(
                programme["ProgramId"],
                user,
                [
                    (i["ImageId"], 2, None, standard_renditions())
                    for i in programme["Images"]
                ],
            )
            saved = client.post("/image/SaveCropedImages", json=body, headers=headers)
            assert saved.status_code == 200, saved.text
            assert saved.json()["Data"]["Images"][0]["Status"] == 2
    finally:
        event.remove(api_app.state.engine, "before_cursor_execute", record)
    assert len(claim_statements) <= CLAIM_BUDGET, claim_statements
    assert len(sent) <= SAVE_BUDGET, sent
