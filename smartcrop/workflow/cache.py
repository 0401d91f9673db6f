"""Short-lived, per-process caches of values read from one database.

For data that changes rarely and where an answer a few seconds old is as good as a
fresh one (a lookup table, dashboard counts). Never for anything whose change must
take effect at once: a user's token version or active flag, the QA toggle.

Values are kept per SQLAlchemy engine (weakly: a disposed, dropped engine takes its
values with it), so two apps or tests on different databases never share a value.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session

V = TypeVar("V")


def engine_of(session: Session) -> Engine:
    """The engine a session reads through (a session bound to a connection too)."""
    bind: Any = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


class TtlCache(Generic[V]):
    """One value per engine, read again once it is ``max_age`` seconds old.

    Loads are single-flight: while one thread reads a stale value again, the others
    asking for it wait and then get the new value, so an expiry under load costs one
    query, not one per waiting request. The age counts from the start of the load,
    so a value served is never older than ``max_age`` relative to when it was read.
    """

    def __init__(
        self, max_age: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._values: weakref.WeakKeyDictionary[Engine, tuple[float, V]] = (
            weakref.WeakKeyDictionary()
        )

    def get(self, session: Session, load: Callable[[Session], V]) -> V:
        engine = engine_of(session)
        now = self._clock()
        hit = self._values.get(engine)
        if hit is not None and now - hit[0] < self.max_age:
            return hit[1]
        with self._lock:
            started = self._clock()
            hit = self._values.get(engine)
            if hit is not None and started - hit[0] < self.max_age:
                return hit[1]  # another thread loaded it while we waited
            value = load(session)
            self._values[engine] = (started, value)
            return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
