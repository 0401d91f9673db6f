"""How much work a request does: the dashboard totals' short cache, and the SQL
statements a claim and a save send (a budget, so waste does not creep back)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from smartcrop import reporting
from smartcrop.workflow.cache import TtlCache
from tests.api.workflow_support import save_body, standard_renditions
from tests.workflow.factory import add_item, engine_for

# Statements per request, counted through the app's engine (pool pings, BEGIN and
# COMMIT are not statements here): the user check, the caller's held programme, the
# claim, the answer; the user check, locking the rows, QA routing, the renditions,
# the move, the answer.
CLAIM_BUDGET = 4
SAVE_BUDGET = 6


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    with engine_for(db_url) as engine:
        yield engine


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    # Not a mock: the real cache, on a clock the test moves instead of waiting 2 s.
    monkeypatch.setattr(
        reporting,
        "_totals_cache",
        TtlCache(reporting.TOTALS_MAX_AGE_SECONDS, clock=fake),
    )
    return fake


def totals(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get("/dashboard/Totals", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["Data"]


def test_totals_are_counted_at_most_every_two_seconds(
    client: TestClient, token_for, engine: Engine, clock: Clock
) -> None:
    _, headers = token_for("operator")
    add_item(engine, "SH1")
    assert totals(client, headers)["TotalImages"] == 1
    add_item(engine, "SH2", status=3)
    clock.now += reporting.TOTALS_MAX_AGE_SECONDS - 0.1
    assert totals(client, headers)["TotalImages"] == 1  # the count of 1.9 s ago
    clock.now += 0.1
    fresh = totals(client, headers)
    assert (fresh["TotalImages"], fresh["Completed"]) == (2, 1)


def test_cached_totals_are_never_given_to_a_deactivated_user(
    client: TestClient, token_for, engine: Engine, clock: Clock
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
    assert totals(client, admin)["TotalImages"] == 1  # the cache is still there


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
