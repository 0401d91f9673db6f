"""Claims capacity: the highest rate of claim + save arrivals at which the claim's
p99 stays within 50 ms, over HTTP, next to bare SQL measured the same way.

Open loop: arrivals come at a fixed average rate with exponential gaps (a Poisson
process, seeded), whether or not earlier ones have finished, as operators' clicks
do; each arrival is one operator (taken from a pool of idle ones) claiming a
programme with ``GET /image/GetImageInfo`` and saving a tiny rendition for each of
its images with ``POST /image/SaveCropedImages`` (``smartcrop api --workers 2``).
The baseline is the same arrivals as bare SQL: a ``FOR UPDATE SKIP LOCKED`` claim,
then the renditions and the move (``bench.claims``'s statements, in
``bench.harness.claim_cycle``), one connection
per operator. Rates step up until the claim p99 passes 50 ms, an arrival was not
served, or more than 1% of arrivals started late (below). Every operator's HTTP
client or SQL connection is made before the load, and a warm-up at the first rate
lasts until every operator has claimed (``warm_up_seconds``: 2 s at least); it is
not counted; before it, a burst at 80/s fills the API's connection pools
(``FILL_RATE``). A step lasts ``--seconds`` and at least long enough for 200 arrivals
(``MIN_ARRIVALS``): with fewer, the p99 is the single slowest claim, and one stray
pause at 10/s (80 arrivals) once decided the whole climb. (Made lazily, inside the
first step, a client cost 20 ms of the load client's CPU each, ~28 of them in a row:
that, not the server, decided the first step's p99.)

Latency is measured from the moment the claim is sent; ``late`` counts arrivals the
load client itself started more than 20 ms after their time (then the client, not
the server, is the limit, and the step does not count as sustained).

    python -m bench.claims_capacity [--smoke] [--rates 10,20,40] [--seconds 10]
"""

from __future__ import annotations

import gc
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.harness.child import script_main
from bench.harness.claim_cycle import (
    ASPECT_1X1,
    SQL_CLAIM,
    SQL_FINISH,
    SQL_RENDITION,
    finish_body,
    tiny_png,
)
from bench.harness.cli import log, parse_args
from bench.harness.config import write_config
from bench.harness.database import BenchDatabase
from bench.harness.load import freeze_load_client
from bench.harness.open_loop import (
    TARGET_P99_MS,
    Step,
    add_rate_args,
    open_loop,
    rates_and_seconds,
    warm_up_seconds,
)
from bench.harness.results import (
    Target,
    all_met,
    fmt,
    machine_info,
    summary_line,
    write_result,
)
from bench.harness.seed import create_users, seed_work_items
from bench.harness.servers import api_server, login

NAME = "claims_capacity"
WORKERS = 2
OPERATORS = 48
TARGET_RATE = 50.0
FULL_RATES = (10, 20, 30, 40, 50, 60, 70, 80, 100, 120, 150, 200, 250, 300)
SMOKE_RATES = (5, 10)
# Arrivals a full step needs for its p99 to be the 2nd-slowest claim, not the slowest.
MIN_ARRIVALS = 200
# A burst before the warm-up fills the API's connection pools as hours of work leave
# them: a pool opens a connection only when concurrency asks for one, and a new
# connection's first claim costs ~15 ms more than a warm one's (its backend's catalog
# caches and plans start cold: 17 ms against 3 ms in the claim alone, measured), which
# otherwise lands in the first steps' p99. Not counted, as the warm-up is not.
FILL_RATE = 80.0
FILL_SECONDS = 1.5


def http_cycle(base_url: str, provider: str, png: str, operators: list[Any]):
    import httpx  # noqa: PLC0415

    # One client per operator, made now: each costs about 20 ms of CPU (its SSL
    # context), which inside a step would hold up every claim in flight.
    clients = {
        user_id: httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        for user_id, token in operators
    }

    def cycle(op: tuple[int, str], step: Step, lock: threading.Lock) -> None:
        user_id, _ = op
        client = clients[user_id]
        start = time.perf_counter()
        response = client.get(
            "/image/GetImageInfo",
            params={"providerName": provider, "user": str(user_id)},
        )
        claimed = time.perf_counter()
        data = response.json().get("Data") if response.status_code == 200 else None
        if data is None:
            with lock:
                step.errors.append(f"claim {response.status_code} {response.text[:80]}")
            return
        ids = [image["ImageId"] for image in data["Images"]]
        body = finish_body(data["ProgramId"], user_id, ids, png)
        saving = time.perf_counter()
        saved = client.post("/image/SaveCropedImages", json=body)
        done = time.perf_counter()
        with lock:
            step.claim.append(claimed - start)
            if saved.status_code == 200:
                step.save.append(done - saving)
            else:
                step.errors.append(f"save {saved.status_code} {saved.text[:80]}")

    def close() -> None:
        for client in clients.values():
            client.close()

    return cycle, close


def sql_cycle(db_url: str, provider: str, operators: list[int]):
    import psycopg  # noqa: PLC0415

    libpq = BenchDatabase.libpq(db_url)
    # One connection per operator, made now (as the HTTP side's clients are).
    conns = {user_id: psycopg.connect(libpq) for user_id in operators}

    def cycle(user_id: int, step: Step, lock: threading.Lock) -> None:
        conn = conns[user_id]
        start = time.perf_counter()
        with conn.transaction():
            rows = conn.execute(
                SQL_CLAIM, {"provider": provider, "user": user_id}
            ).fetchall()
        claimed = time.perf_counter()
        if not rows:
            with lock:
                step.errors.append("claim: the queue is empty")
            return
        params = {"ids": [r[0] for r in rows], "user": user_id, "ratio": ASPECT_1X1}
        saving = time.perf_counter()
        with conn.transaction():
            conn.execute(SQL_RENDITION, {**params, "size": 90})
            conn.execute(SQL_FINISH, params)
        with lock:
            step.claim.append(claimed - start)
            step.save.append(time.perf_counter() - saving)

    def close() -> None:
        for conn in conns.values():
            conn.close()

    return cycle, close


def capacity(steps: list[Step]) -> float:
    """The highest offered rate sustained, below the first step that was not."""
    best = 0.0
    for step in steps:
        if not step.sustained():
            break
        best = step.offered
    return best


def climb(
    name: str,
    rates: tuple[float, ...],
    seconds: float,
    seed: int,
    operators: list[Any],
    make: Callable[[], tuple[Callable[..., None], Callable[[], None]]],
    min_arrivals: int = 0,
    fill: bool = False,
) -> list[Step]:
    steps: list[Step] = []
    # The previous climb's garbage (48 HTTP clients, each with an SSL context, in
    # reference cycles: about 40 ms of CPU to free) goes now, not during a step.
    gc.collect()
    cycle, close = make()
    try:
        if fill:
            open_loop(FILL_RATE, FILL_SECONDS, seed - 2, operators, cycle)
        # Warm-up, not counted: connections, caches and plans of every operator.
        warm_up = warm_up_seconds(rates[0], len(operators))
        open_loop(rates[0], warm_up, seed - 1, operators, cycle)
        for i, rate in enumerate(rates):
            step_seconds = max(seconds, min_arrivals / rate)
            step = open_loop(rate, step_seconds, seed + i, operators, cycle)
            steps.append(step)
            log(
                f"{NAME}: {name} {rate:g}/s -> {step.achieved:.1f}/s, claim p99 "
                f"{fmt(step.p99_ms())} ms, late {step.late}, errors {len(step.errors)}"
                f", run queue {(step.run_queue or {}).get('mean')}"
            )
            if not step.sustained() and len(steps) >= 2:
                break  # past capacity (two steps always run, so smoke runs both)
    finally:
        close()
    return steps


def run(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(__doc__ or NAME, argv, add_rate_args)
    rates, seconds = rates_and_seconds(args, SMOKE_RATES, FULL_RATES)
    work = Path(tempfile.mkdtemp(prefix="bench-capacity-"))
    count = 8 if args.smoke else OPERATORS
    warm_up = warm_up_seconds(rates[0], count)
    min_arrivals = 0 if args.smoke else MIN_ARRIVALS
    arrivals = sum(max(rate * seconds, min_arrivals) for rate in rates)
    filled = 0 if args.smoke else int(FILL_RATE * FILL_SECONDS * 2)
    programmes = int(arrivals * 1.5) + 50 + int(rates[0] * warm_up * 1.5) + filled
    with BenchDatabase() as db:
        machine = machine_info(db.server_version())
        url = db.fresh()
        operators = create_users(url, "operator", count, "op")
        for provider in ("HTTP", "SQL"):
            seed_work_items(
                url,
                programmes=programmes,
                images_per_programme=2,
                seed=args.seed,
                provider=provider,
            )
        config = write_config(work, url)
        with api_server(url, config, WORKERS, work / "api.log") as server:
            tokens = [(uid, login(server.base_url, email)) for uid, email in operators]
            freeze_load_client()  # its own pauses are not the server's (see there)
            http_steps = climb(
                "HTTP",
                rates,
                seconds,
                args.seed,
                tokens,
                lambda: http_cycle(server.base_url, "HTTP", tiny_png(), tokens),
                min_arrivals,
                fill=not args.smoke,
            )
        sql_steps = climb(
            "SQL",
            rates,
            seconds,
            args.seed,
            [uid for uid, _ in operators],
            lambda: sql_cycle(url, "SQL", [uid for uid, _ in operators]),
            min_arrivals,
            fill=not args.smoke,
        )
    project, baseline = capacity(http_steps), capacity(sql_steps)
    targets = [Target("capacity over HTTP", project, TARGET_RATE, "min", "/s")]
    table = [
        (
            "arrivals/s",
            "HTTP: done/s, claim p99, run queue",
            "SQL: done/s, claim p99, run queue",
        )
    ]
    for i, rate in enumerate(rates[: max(len(http_steps), len(sql_steps))]):
        cells = []
        for steps in (http_steps, sql_steps):
            if i < len(steps):
                s = steps[i]
                mark = "" if s.sustained() else " (not sustained)"
                queue = (s.run_queue or {}).get("mean")
                cells.append(
                    f"{s.achieved:.1f}, {fmt(s.p99_ms())} ms{mark}, {fmt(queue)}"
                )
            else:
                cells.append("-")
        table.append((f"{rate:g}", *cells))
    payload = {
        "metric": (
            "the highest rate of claim + save arrivals (open loop, Poisson, over "
            f"HTTP) at which the claim p99 stays <= {TARGET_P99_MS:g} ms, next to "
            "bare SQL's capacity measured the same way"
        ),
        "project": {
            "capacity_per_s": project,
            "steps": [s.as_dict() for s in http_steps],
        },
        "project_headline": f"{project:g} programmes/s",
        "baseline": {
            "capacity_per_s": baseline,
            "steps": [s.as_dict() for s in sql_steps],
        },
        "baseline_headline": f"{baseline:g} programmes/s",
        # A capacity below the lowest rate tried counts as half that rate here, so
        # the ratio stays a positive number whichever side sustained nothing.
        "ratio": (baseline or rates[0] / 2) / (project or rates[0] / 2),
        "target": f"capacity >= {TARGET_RATE:g} programmes/s",
        "targets": [t.as_dict() for t in targets],
        "met": all_met(targets),
        "runs": 1,
        "smoke": bool(args.smoke),
        "machine": machine,
        "note": (
            f"{seconds:g} s per rate, {len(operators)} operators, 2 images per "
            "programme, one 8x8 PNG per image; the load client runs on the same 2 "
            "cores as the API and PostgreSQL. Run queue: the machine's runnable "
            "threads during the step (mean of /proc/stat's procs_running every 50 "
            "ms; this benchmark's own included), the sign of other work on the "
            "machine. Ratio: SQL capacity over HTTP "
            "capacity (a capacity below the lowest rate tried counts as half of it)."
        ),
    }
    written = write_result(args.results_dir, NAME, payload, table)
    print(summary_line(written))
    return written


def main(argv: list[str] | None = None) -> int:
    return script_main(run, {}, argv)


if __name__ == "__main__":
    sys.exit(main())
