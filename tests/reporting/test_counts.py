"""The counts kept with every write (migration 0004) against full counts.

The dashboard views, the report's TotalCount and its pages are compared with the
definitions they replaced (a full count of the work items; count(*) and OFFSET over
fncroppedimagereports), on a known scenario, on random writes of every kind the
application makes, and after concurrent moves from 16 threads."""

from __future__ import annotations

import random
import threading

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from smartcrop import reporting
from smartcrop.errors import Conflict
from smartcrop.reporting import counts
from smartcrop.workflow import states
from tests.reporting.reference_counts import (
    PROVIDERS,
    World,
    assert_all_agree,
    full_providers,
    full_totals,
    provider_page,
    random_history,
    report_filters,
)
from tests.support.work_items import add_item, add_user


@settings(
    max_examples=25,
    deadline=None,
    # One database for all examples: each example starts by emptying the tables
    # (through the triggers, which is one more write they must count right).
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(seed=st.integers(0, 2**32 - 1), steps=st.integers(1, 25))
def test_random_writes_keep_every_count_equal_to_a_full_count(
    engine: Engine, users: list[int], seed: int, steps: int
) -> None:
    with Session(engine) as session:
        random_history(session, users, seed, steps)
        assert_all_agree(session, report_filters(users))
        session.rollback()


def test_a_known_scenario_is_counted_and_paged_as_before(
    engine: Engine, users: list[int]
) -> None:
    ids = [add_item(engine, f"SH{n}", provider=PROVIDERS[n % 4]) for n in range(12)]
    with Session(engine) as session:
        world = World(session, users)
        rng = random.Random(7)
        for _ in range(40):
            world.step(rng)
        session.commit()
    with Session(engine) as session:
        assert (
            reporting.totals(session)["TotalImages"]
            == full_totals(session)["TotalImages"]
        )
        assert full_totals(session)["TotalImages"] >= len(ids) - 6
        assert_all_agree(session, report_filters(users))


# --- the real state machine, 16 threads at once -----------------------------------


def test_counts_equal_a_full_count_after_concurrent_moves_from_16_threads(
    engine: Engine,
) -> None:
    users = [add_user(engine, "operator") for _ in range(4)]
    ids = [add_item(engine, f"SH{n}", provider=PROVIDERS[n % 3]) for n in range(60)]
    errors: list[BaseException] = []
    moved = [0]
    lock = threading.Lock()

    def worker(n: int) -> None:
        rng = random.Random(n)
        try:
            for _ in range(30):
                image = rng.choice(ids)
                user = rng.choice(users)
                with Session(engine) as session, session.begin():
                    status, state = session.execute(
                        text(
                            "SELECT status, currentstate FROM smartcrop_programimage"
                            " WHERE id = :id"
                        ),
                        {"id": image},
                    ).one()
                    choices = [
                        move
                        for (source, _), move in states.ALLOWED_MOVES.items()
                        if source == (status, state)
                    ]
                    if not choices:
                        continue
                    move = rng.choice(choices)
                    try:
                        states.move_rows(
                            session,
                            move,
                            [image],
                            owner_id=user,
                            actor_id=user,
                            reject_reason_id=1 if move.needs_reason else None,
                        )
                    except Conflict:
                        continue  # another thread moved it first: refused, as it must
                with lock:
                    moved[0] += 1
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert moved[0] > 100  # the moves really happened
    with Session(engine) as session:
        assert counts.drift(session) == []
        assert reporting.totals(session) == full_totals(session)
        assert provider_page(session) == full_providers(session)
