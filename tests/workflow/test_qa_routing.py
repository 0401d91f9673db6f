"""QA routing (contract section 2): distribution, stability, toggle and rules."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from smartcrop import identity
from smartcrop.workflow.qa_routing import COMPLETED, QA, qa_route, route_for

IDS = [f"EP{n:012d}" for n in range(10_000)]


def test_a_30_percent_rule_sends_30_percent_to_qa() -> None:
    routes = [route_for(pid, False, 30) for pid in IDS]
    assert set(routes) == {QA, COMPLETED}
    share = routes.count(QA) / len(IDS)
    assert 0.27 <= share <= 0.33, share


@pytest.mark.parametrize("percentage", [0, 10, 50, 90, 100])
def test_the_share_follows_the_percentage(percentage: int) -> None:
    share = sum(route_for(pid, False, percentage) == QA for pid in IDS) / len(IDS)
    assert abs(share - percentage / 100) <= 0.03


def test_the_same_programme_always_takes_the_same_route() -> None:
    first = [route_for(pid, False, 30) for pid in IDS]
    assert [route_for(pid, False, 30) for pid in IDS] == first
    # A programme sent to QA at 30% is still sent to QA at a higher percentage.
    assert all(
        route_for(pid, False, 60) == QA
        for pid, r in zip(IDS, first, strict=True)
        if r == QA
    )


def test_the_route_is_the_same_in_another_process_with_another_hash_seed() -> None:
    sample = IDS[:500]
    script = (
        "import json, sys; from smartcrop.workflow.qa_routing import route_for;"
        " print(json.dumps([route_for(p, False, 30) for p in json.load(sys.stdin)]))"
    )
    other = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(sample),
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    )
    assert other.returncode == 0, other.stderr
    assert json.loads(other.stdout) == [route_for(p, False, 30) for p in sample]


def test_the_hash_is_sha256_of_the_programme_id() -> None:
    # Pinned so that a refactor cannot silently re-route programmes already in flight.
    for pid in ("SH012345670000", "EP012345670012", "MV000987650000"):
        bucket = int.from_bytes(hashlib.sha256(pid.encode()).digest()[:8], "big") % 100
        assert route_for(pid, False, bucket + 1) == QA
        assert route_for(pid, False, bucket) == COMPLETED


def test_qa_disabled_always_completes_and_no_rule_always_goes_to_qa() -> None:
    assert {route_for(pid, True, 30) for pid in IDS} == {COMPLETED}
    assert {route_for(pid, True, None) for pid in IDS} == {COMPLETED}
    assert {route_for(pid, False, None) for pid in IDS} == {QA}


# --- qa_route reads the toggle and the rules from the database ---


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    engine = create_engine(db_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


SAMPLE = IDS[:300]


def routes(session: Session) -> list[int]:
    return [qa_route(session, pid) for pid in SAMPLE]


def test_qa_route_without_rules_sends_everything_to_qa(session: Session) -> None:
    assert set(routes(session)) == {QA}


def test_qa_route_follows_the_newest_active_status_2_rule(session: Session) -> None:
    identity.create_rule(session, status=2, percentage=30, actor_id=None)
    assert routes(session) == [route_for(pid, False, 30) for pid in SAMPLE]
    # Rules for other statuses do not route.
    identity.create_rule(session, status=3, percentage=100, actor_id=None)
    assert routes(session) == [route_for(pid, False, 30) for pid in SAMPLE]
    # The newest active Status 2 rule wins ...
    newest = identity.create_rule(session, status=2, percentage=0, actor_id=None)
    assert set(routes(session)) == {COMPLETED}
    # ... and once it is deleted the older one applies again.
    identity.deactivate_rule(session, newest["Id"])
    assert routes(session) == [route_for(pid, False, 30) for pid in SAMPLE]


def test_qa_route_ignores_inactive_rules(session: Session) -> None:
    rule = identity.create_rule(session, status=2, percentage=0, actor_id=None)
    identity.update_rule(session, rule_id=rule["Id"], is_active=False)
    assert set(routes(session)) == {QA}


def test_qa_route_with_qa_disabled_always_completes(session: Session) -> None:
    identity.create_rule(session, status=2, percentage=100, actor_id=None)
    assert set(routes(session)) == {QA}
    session.execute(text("UPDATE smartcrop_settings SET qcdisabled = true"))
    assert set(routes(session)) == {COMPLETED}
