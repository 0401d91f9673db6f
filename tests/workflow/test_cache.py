"""Short-lived per-process caches: what they keep, for how long, and for whom."""

from __future__ import annotations

import threading
import time

from sqlalchemy import Engine, event, text

from smartcrop.workflow import rendition_rows
from smartcrop.workflow.cache import TtlCache
from tests.support.work_items import engine_for, sessions


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_value_is_kept_for_max_age_then_read_again(engine: Engine) -> None:
    clock = Clock()
    cache: TtlCache[int] = TtlCache(2.0, clock=clock)
    loads: list[int] = []

    def load(_session: object) -> int:
        loads.append(1)
        return len(loads)

    with sessions(engine)() as session:
        assert cache.get(session, load) == 1
        clock.now += 1.9
        assert cache.get(session, load) == 1
        clock.now += 0.2
        assert cache.get(session, load) == 2
    assert len(loads) == 2


def test_each_engine_has_its_own_value(engine: Engine, db_url: str) -> None:
    # Values are kept per engine: two apps (or tests) never share one, whatever
    # database each reads.
    cache: TtlCache[str] = TtlCache(60.0)
    with (
        engine_for(db_url) as other,
        sessions(engine)() as a,
        sessions(other)() as b,
    ):
        assert cache.get(a, lambda _s: "first") == "first"
        assert cache.get(b, lambda _s: "second") == "second"
        assert cache.get(a, lambda _s: "again") == "first"


def test_an_expired_value_is_read_once_however_many_ask(engine: Engine) -> None:
    cache: TtlCache[int] = TtlCache(60.0)
    loads: list[int] = []
    barrier = threading.Barrier(8)
    results: list[int] = []

    def load(_session: object) -> int:
        loads.append(1)
        time.sleep(0.2)  # slow, so the others arrive while it runs
        return 42

    def ask() -> None:
        with sessions(engine)() as session:
            barrier.wait()
            results.append(cache.get(session, load))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert results == [42] * 8
    assert len(loads) == 1


def test_the_aspect_ratio_lookup_is_read_at_most_every_few_seconds(
    engine: Engine, monkeypatch
) -> None:
    clock = Clock()
    # Not a mock: the real cache, on a clock the test moves instead of waiting.
    monkeypatch.setattr(
        rendition_rows,
        "_aspect_ratio_cache",
        TtlCache(rendition_rows.ASPECT_RATIO_MAX_AGE_SECONDS, clock),
    )
    sent: list[str] = []

    def record(conn, cursor, statement, *_: object) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        with sessions(engine)() as session:
            first = rendition_rows.aspect_ratios(session)
            assert [r.title for r in first.values()] == [
                "16x9",
                "4x3",
                "3x4",
                "2x3",
                "1x1",
            ]
            first.clear()  # a caller's copy: the cache is not changed through it
            assert len(rendition_rows.aspect_ratios(session)) == 5
            assert len(sent) == 1
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO smartcrop_aspectratio_lookup"
                    " (id, title, ratiowidth, ratioheight) VALUES (6, '21x9', 21, 9)"
                )
            )
        clock.now += rendition_rows.ASPECT_RATIO_MAX_AGE_SECONDS
        with sessions(engine)() as session:
            assert rendition_rows.aspect_ratios(session)[6].title == "21x9"
    finally:
        event.remove(engine, "before_cursor_execute", record)
