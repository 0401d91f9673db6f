"""The API's start-up ``gc.freeze`` (``api/app.py``), A/B: the full (generation-2)
collections inside the API's workers and the claim p99 under claims load, with the
freeze and without it (``SMARTCROP_GC_FREEZE=0``), in the same run.

Each run is ``claims_capacity``'s open loop over HTTP (Poisson claim + save
arrivals, 48 operators, ``smartcrop api --workers 2``) on a fresh clone of one
seeded database and a new API process: a warm-up in which every operator claims
(``claims_capacity.warm_up_seconds``), then 8 s at 40/s and 8 s at 50/s. The runs
alternate, baseline first (off, on, off, on, ...), ``--runs`` of each. The API is
started with ``bench/gc_probe`` on its ``PYTHONPATH``: its ``sitecustomize`` times
every generation-2 collection in each worker (``gc.callbacks``); this process times
its own the same way (the load client's pauses count in its latencies). A
collection counts for a step if it starts between the step's first arrival and its
last answer. Each step also records the machine's run queue (``RunQueue``): on a
shared machine, other work there decides many a p99.

    python -m bench.claims_gc [--smoke] [--runs 3] [--rates 40,50] [--seconds 8]
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import make_url

from bench.claims_capacity import OPERATORS, WORKERS, http_cycle
from bench.harness.child import script_main
from bench.harness.claim_cycle import tiny_png
from bench.harness.cli import log, parse_args
from bench.harness.config import write_config
from bench.harness.database import BenchDatabase
from bench.harness.load import freeze_load_client
from bench.harness.open_loop import (
    add_rate_args,
    open_loop,
    rates_and_seconds,
    warm_up_seconds,
)
from bench.harness.results import fmt, machine_info, summary_line, write_result
from bench.harness.seed import create_users, seed_work_items
from bench.harness.servers import api_server, login

NAME = "claims_gc"
RATES = (40.0, 50.0)
SMOKE_RATES = (5.0, 10.0)
PROBE_DIR = Path(__file__).resolve().with_name("gc_probe")
ARMS = {"no freeze": "0", "freeze": "1"}  # SMARTCROP_GC_FREEZE per arm


# A generation-2 collection: its start (perf_counter), wall seconds, CPU seconds.
Event = tuple[float, float, float]


class ClientProbe:
    """This process's generation-2 collections, as ``bench/gc_probe`` times them."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._started = (0.0, 0.0)

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._started = (time.perf_counter(), time.thread_time())
        else:
            wall = time.perf_counter() - self._started[0]
            cpu = time.thread_time() - self._started[1]
            self.events.append((self._started[0], wall, cpu))


def pauses(events: list[Event], window: tuple[float, float]) -> dict[str, Any]:
    """Count, max and median (ms, wall clock and CPU) of the collections starting
    inside ``window``."""
    inside = [e for e in events if window[0] <= e[0] <= window[1]]
    wall = [e[1] * 1000 for e in inside]
    cpu = [e[2] * 1000 for e in inside]
    return {
        "count": len(inside),
        "max_ms": round(max(wall), 2) if wall else None,
        "median_ms": round(statistics.median(wall), 2) if wall else None,
        "all_ms": [round(ms, 2) for ms in wall],
        "all_cpu_ms": [round(ms, 2) for ms in cpu],
    }


def worker_events(probe: Path) -> tuple[list[Event], int]:
    """The API workers' collections (processes that had imported the app) and the
    most objects any of them had frozen."""
    events: list[Event] = []
    frozen = 0
    for path in sorted(probe.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            event = json.loads(line)
            if event["api"]:
                frozen = max(frozen, event["frozen"])
                if "start" in event:  # not the line noting the freeze
                    start, wall, cpu = (
                        event[k] for k in ("start", "seconds", "cpu_seconds")
                    )
                    events.append((start, wall, cpu))
    return events, frozen


def one_run(
    db: BenchDatabase,
    template: str,
    operators: list[tuple[int, str]],
    arm: str,
    rates: tuple[float, ...],
    seconds: float,
    seed: int,
    work: Path,
    client: ClientProbe,
) -> dict[str, Any]:
    url = db.fresh(template)
    work.mkdir(parents=True)
    probe = work / "gc"
    probe.mkdir()
    path = os.pathsep.join([str(PROBE_DIR), os.environ.get("PYTHONPATH", "")])
    env = {
        "SMARTCROP_GC_FREEZE": ARMS[arm],
        "SMARTCROP_GC_PROBE_DIR": str(probe),
        "PYTHONPATH": path.rstrip(os.pathsep),
    }
    config = write_config(work, url)
    steps = []
    with api_server(url, config, WORKERS, work / "api.log", extra_env=env) as server:
        tokens = [(uid, login(server.base_url, email)) for uid, email in operators]
        cycle, close = http_cycle(server.base_url, "HTTP", tiny_png(), tokens)
        try:
            # Warm-up, not counted: every operator claims once before the steps.
            warm_up = warm_up_seconds(rates[0], len(tokens))
            open_loop(rates[0], warm_up, seed - 1, tokens, cycle)
            for i, rate in enumerate(rates):
                begun = time.perf_counter()
                step = open_loop(rate, seconds, seed + i, tokens, cycle)
                steps.append((step, (begun, time.perf_counter())))
        finally:
            close()
    db.drop(url)
    events, frozen = worker_events(probe)
    result: dict[str, Any] = {"arm": arm, "frozen_objects": frozen, "steps": []}
    for step, window in steps:
        row = step.as_dict()
        row["api_gen2"] = pauses(events, window)
        row["client_gen2"] = pauses(client.events, window)
        result["steps"].append(row)
        log(
            f"{NAME}: {arm} {step.offered:g}/s: claim p99 {fmt(step.p99_ms())} ms "
            f"(sustained {fmt(step.sustained())}, run queue "
            f"{fmt((step.run_queue or {}).get('mean'))}); API gen-2 "
            f"{row['api_gen2']['count']} x, max {fmt(row['api_gen2']['max_ms'])} ms; "
            f"client gen-2 {row['client_gen2']['count']} x, "
            f"max {fmt(row['client_gen2']['max_ms'])} ms"
        )
    return result


def summary(runs: list[dict[str, Any]], rates: tuple[float, ...]) -> dict[str, Any]:
    """One arm over its runs: per rate, every run's p99 and whether it was sustained;
    over all its steps, the API's and the client's generation-2 pauses."""

    def every(side: str, key: str) -> list[float]:
        return [ms for r in runs for s in r["steps"] for ms in s[side][key]]

    def overall(side: str) -> dict[str, Any]:
        wall, cpu = every(side, "all_ms"), every(side, "all_cpu_ms")
        return {
            "count": len(wall),
            "max_ms": max(wall, default=None),
            "median_ms": statistics.median(wall) if wall else None,
            "max_cpu_ms": max(cpu, default=None),
            "median_cpu_ms": statistics.median(cpu) if cpu else None,
        }

    per_rate = {}
    for i, rate in enumerate(rates):
        p99 = [r["steps"][i]["claim_p99_ms"] for r in runs]
        per_rate[f"{rate:g}"] = {
            "claim_p99_ms": p99,
            "claim_p99_ms_median": statistics.median(p99),
            "sustained": [r["steps"][i]["sustained"] for r in runs],
        }
    return {
        "per_rate": per_rate,
        "api_gen2": overall("api_gen2"),
        "client_gen2": overall("client_gen2"),
        "frozen_objects": [r["frozen_objects"] for r in runs],
        "runs": runs,
    }


def run(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(__doc__ or NAME, argv, add_rate_args)
    rates, seconds = rates_and_seconds(args, SMOKE_RATES, RATES)
    work = Path(tempfile.mkdtemp(prefix="bench-claims-gc-"))
    count = 8 if args.smoke else OPERATORS
    warm_up = warm_up_seconds(rates[0], count)
    programmes = int((sum(rates) * seconds + rates[0] * warm_up) * 1.5) + 50
    client = ClientProbe()
    gc.callbacks.append(client)
    results: dict[str, list[dict[str, Any]]] = {arm: [] for arm in ARMS}
    with BenchDatabase() as db:
        machine = machine_info(db.server_version())
        # One seeded database (users, queue); each run claims from a clone of it.
        template_url = db.fresh()
        operators = create_users(template_url, "operator", count, "op")
        seed_work_items(
            template_url,
            programmes=programmes,
            images_per_programme=2,
            seed=args.seed,
            provider="HTTP",
        )
        template = str(make_url(template_url).database)
        freeze_load_client()  # the same client for both arms (see there)
        for n in range(args.runs):
            for arm in ARMS:  # alternating, the baseline first
                folder = work / f"{n}-{ARMS[arm]}"
                # The previous run's garbage (its 48 HTTP clients, each with an SSL
                # context, in cycles: about 40 ms of CPU) goes now, not in a step.
                gc.collect()
                results[arm].append(
                    one_run(
                        db,
                        template,
                        operators,
                        arm,
                        rates,
                        seconds,
                        args.seed,
                        folder,
                        client,
                    )
                )
    gc.callbacks.remove(client)
    on, off = summary(results["freeze"], rates), summary(results["no freeze"], rates)
    top = f"{rates[-1]:g}"
    table = [
        (
            "run",
            "arm",
            *(f"claim p99 at {r:g}/s (run queue)" for r in rates),
            "API gen-2",
        )
    ]
    for n in range(args.runs):
        for arm in ARMS:
            r = results[arm][n]
            p99s = [
                f"{fmt(s['claim_p99_ms'])} ms{'' if s['sustained'] else ' (not sust.)'}"
                f" ({fmt((s['run_queue'] or {}).get('mean'))})"
                for s in r["steps"]
            ]
            gen2 = [ms for s in r["steps"] for ms in s["api_gen2"]["all_ms"]]
            pause = f"{len(gen2)} x, max {fmt(max(gen2, default=None))} ms"
            table.append((str(n + 1), arm, *p99s, pause))
    gen2_table = [
        ("arm", "process", "count", "max ms (CPU)", "median ms (CPU)"),
    ]
    for arm, side in (("no freeze", off), ("freeze", on)):
        for who in ("api_gen2", "client_gen2"):
            g = side[who]
            gen2_table.append(
                (
                    arm,
                    "API workers" if who == "api_gen2" else "load client",
                    str(g["count"]),
                    f"{fmt(g['max_ms'])} ({fmt(g['max_cpu_ms'])})",
                    f"{fmt(g['median_ms'])} ({fmt(g['median_cpu_ms'])})",
                )
            )
    payload = {
        "metric": (
            "generation-2 collections in the API's workers and the claim p99 under "
            "open-loop claims load, with the start-up gc.freeze and without it "
            "(SMARTCROP_GC_FREEZE=0), runs alternating in the same session"
        ),
        "project": on,
        "project_headline": (
            f"claim p99 at {top}/s {fmt(on['per_rate'][top]['claim_p99_ms_median'])} "
            f"ms; API gen-2 max {fmt(on['api_gen2']['max_ms'])} ms"
        ),
        "baseline": off,
        "baseline_headline": (
            f"claim p99 at {top}/s {fmt(off['per_rate'][top]['claim_p99_ms_median'])} "
            f"ms; API gen-2 max {fmt(off['api_gen2']['max_ms'])} ms"
        ),
        # Median claim p99 at the highest rate, without the freeze over with it.
        "ratio": (
            off["per_rate"][top]["claim_p99_ms_median"]
            / on["per_rate"][top]["claim_p99_ms_median"]
        ),
        "target": "none: an A/B measurement",
        "targets": [],
        "met": None,
        "runs": args.runs,
        "smoke": bool(args.smoke),
        "machine": machine,
        "note": (
            f"{seconds:g} s per rate after a warm-up in which every operator "
            f"claimed, {len(operators)} "
            "operators, 2 images per programme; a new API process and a fresh "
            "database clone per run; the load client runs on the same 2 cores as "
            "the API and PostgreSQL. Run queue: the machine's runnable threads "
            "during the step (mean of /proc/stat's procs_running every 50 ms, this "
            "benchmark's own included); above 4 or so, other work on the machine "
            "decides the p99. Ratio: the median claim p99 at the highest rate "
            "without the freeze over with it."
        ),
    }
    written = write_result(
        args.results_dir,
        NAME,
        payload,
        table,
        {"Generation-2 collections during the measured steps": gen2_table},
    )
    print(summary_line(written))
    return written


def main(argv: list[str] | None = None) -> int:
    return script_main(run, {}, argv)


if __name__ == "__main__":
    sys.exit(main())
