"""An open-loop load: arrivals on a fixed schedule whatever the server does, each
served by a cycle on a thread pool; a step's latencies, errors and late starts.

``bench.claims_capacity`` and ``bench.claims_gc`` climb rates with it.
"""

from __future__ import annotations

import argparse
import queue
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from bench.harness.load import RunQueue
from bench.harness.timing import percentile

# An arrival whose cycle starts later than this after its time counts as late.
LATE_SECONDS = 0.020
# A step passes when its claim p99 is at most this (and nothing failed or was late).
TARGET_P99_MS = 50.0


@dataclass
class Step:
    offered: float
    seconds: float = 0.0
    claim: list[float] = field(default_factory=list)
    save: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    late: int = 0
    arrivals: int = 0
    # The machine's run queue during the step (bench.common.RunQueue).
    run_queue: dict[str, float] | None = None

    @property
    def achieved(self) -> float:
        """Programmes finished per second of the arrival window."""
        return len(self.save) / self.seconds if self.seconds else 0.0

    def p99_ms(self) -> float | None:
        return percentile(self.claim, 99) * 1000 if self.claim else None

    def sustained(self) -> bool:
        p99 = self.p99_ms()
        return (
            p99 is not None
            and p99 <= TARGET_P99_MS
            and not self.errors
            and self.late <= 0.01 * self.arrivals
            and len(self.save) == self.arrivals  # every arrival was served
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "offered_per_s": self.offered,
            "achieved_per_s": round(self.achieved, 2),
            "arrivals": self.arrivals,
            "claim_p50_ms": (
                round(percentile(self.claim, 50) * 1000, 2) if self.claim else None
            ),
            "claim_p99_ms": round(self.p99_ms() or 0, 2) if self.claim else None,
            "save_p50_ms": (
                round(percentile(self.save, 50) * 1000, 2) if self.save else None
            ),
            "late": self.late,
            "errors": len(self.errors),
            "error_samples": self.errors[:3],
            "sustained": self.sustained(),
            "run_queue": self.run_queue,
        }


def open_loop(
    rate: float,
    seconds: float,
    seed: int,
    operators: list[Any],
    cycle: Callable[[Any, Step, threading.Lock], None],
) -> Step:
    """Poisson arrivals at ``rate`` for ``seconds``; each runs ``cycle`` with an idle
    operator. Bounded: at most rate x seconds x 2 arrivals, and it stops by itself."""
    rng = random.Random(seed)  # noqa: S311 - arrival times, not secrets
    step = Step(rate)
    lock = threading.Lock()
    idle: queue.SimpleQueue[Any] = queue.SimpleQueue()
    for op in operators:
        idle.put(op)

    def arrival(due: float) -> None:
        if time.perf_counter() - due > LATE_SECONDS:
            with lock:
                step.late += 1
        try:
            op = idle.get(timeout=5)
        except queue.Empty:
            with lock:
                step.errors.append("no idle operator within 5 s")
            return
        try:
            cycle(op, step, lock)
        finally:
            idle.put(op)

    start = time.perf_counter()
    due = start
    limit = int(rate * seconds * 2) + 10
    with RunQueue() as run_queue, ThreadPoolExecutor(len(operators)) as pool:
        while step.arrivals < limit:
            due += rng.expovariate(rate)
            if due - start > seconds:
                break
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            step.arrivals += 1
            pool.submit(arrival, due)
    # The window the arrivals were offered in (the pool drains after it).
    step.seconds = seconds
    step.run_queue = run_queue.summary()
    return step


def warm_up_seconds(rate: float, operators: int) -> float:
    """Long enough at ``rate`` for 1.5 arrivals per operator (idle operators are
    taken in turn, so each has claimed before the counted steps): 2 s at least."""
    return max(2.0, 1.5 * operators / rate)


def add_rate_args(parser: argparse.ArgumentParser) -> None:
    """The options of a climb: its rates and each step's length."""
    parser.add_argument("--rates", default=None, help="arrivals per second, a,b,c")
    parser.add_argument("--seconds", type=float, default=None)


def rates_and_seconds(
    args: argparse.Namespace,
    smoke_rates: tuple[float, ...],
    full_rates: tuple[float, ...],
) -> tuple[tuple[float, ...], float]:
    """The rates to climb (``--rates``, else the smoke or full defaults) and each
    step's seconds (``--seconds``, else 1.5 smoke, 8 full)."""
    rates = (
        tuple(float(r) for r in args.rates.split(","))
        if args.rates
        else (smoke_rates if args.smoke else full_rates)
    )
    return rates, args.seconds or (1.5 if args.smoke else 8.0)
