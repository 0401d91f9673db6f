"""File latency and bursts through the real Dagster daemon and the staging sensor.

``dagster-daemon run -w workspace.yaml`` runs as a child process with a temporary
DAGSTER_HOME holding a copy of the repository's dagster.yaml (QueuedRunCoordinator,
dequeue every 1 s, 2 runs at a time), the project's settings pointing at a
throw-away PostgreSQL and staging folder, and the sensor interval set small with
``FILEWATCHER__SENSOR_INTERVAL_SECONDS``. Manifests are landed in the staging folder
by an atomic rename with the landing time as their mtime, as a finished upload looks.

- (a) latency: one small manifest lands; time until its work items exist (its
  ``smartcrop_upload_files`` row reads ``ingested``, set in the same transaction
  that adds the work items). Repeated, each landing at a random moment of the
  sensor's cycle. Target: <= sensor interval + 3 s.
- (b) burst: 200 small manifests land at once; time until all are ingested.
  Target: <= 3 minutes; files/min reported.

Where the time goes comes from Dagster's own run records and event log (queued,
dequeued, launched, started, steps, finished), per run.

    python -m bench.file_latency [--smoke] [--runs N] [--files N] [--burst-runs N]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.file_latency import (
    BURST_DEADLINE_SECONDS,
    BURST_FILES,
    BURST_TARGET_SECONDS,
    DAEMON_READY_TIMEOUT,
    EXTRA_SECONDS,
    MODULE,
    NAME,
    SENSOR_INTERVAL,
    SINGLE_RUNS,
    SMOKE_BURST_FILES,
)
from bench.file_latency.daemon import Daemon, Watcher, land, make_files, wait_for
from bench.file_latency.in_process import TASKS
from bench.file_latency.report import report
from bench.file_latency.runs import breakdown, other_runs, run_phases
from bench.harness.child import run_child, script_main
from bench.harness.cli import log, parse_args
from bench.harness.config import dagster_home, write_config
from bench.harness.database import BenchDatabase
from bench.harness.images import ImageServer
from bench.harness.profiling import profiler_available
from bench.harness.results import Target, all_met, machine_info
from bench.harness.timing import Stats

# ---------------------------------------------------------------------------------
# The benchmark
# ---------------------------------------------------------------------------------


def _extra(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--files",
        type=int,
        default=None,
        help=f"manifests in the burst (default {BURST_FILES})",
    )
    parser.add_argument(
        "--burst-runs",
        type=int,
        default=3,
        help="how many bursts (default 3; a smoke run does one)",
    )
    parser.add_argument(
        "--burst-deadline",
        type=float,
        default=BURST_DEADLINE_SECONDS,
        help="stop waiting for a burst after this many seconds and project its "
        "total from the rate so far (0: wait for every file, up to 30 minutes); "
        "default %(default)s",
    )
    parser.add_argument("--interval", type=int, default=SENSOR_INTERVAL)


def run(argv: list[str] | None = None) -> dict[str, Any]:  # noqa: C901
    args = parse_args(__doc__ or NAME, argv, _extra)
    if args.smoke:
        args.burst_runs = 1  # the smoke run checks the script, not the numbers
    burst_files = args.files or (SMOKE_BURST_FILES if args.smoke else BURST_FILES)
    single_runs = args.runs if args.smoke else max(args.runs, SINGLE_RUNS)
    rng = random.Random(args.seed)  # noqa: S311 - landing moments, not secrets
    latency, burst = Stats(), Stats()
    burst_rate: list[float] = []
    burst_first: list[float] = []
    burst_done: list[int] = []
    projected = False
    landed: dict[str, float] = {}
    singles: set[str] = set()
    burst_names: set[str] = set()
    burst_window = (0.0, 0.0)
    daemon_ready = 0.0
    keep = os.environ.get("BENCH_KEEP_TMP")  # for debugging: keep the folder
    with (
        (
            contextlib.nullcontext(tempfile.mkdtemp(prefix="smartcrop-bench-files-"))
            if keep
            else tempfile.TemporaryDirectory(prefix="smartcrop-bench-files-")
        ) as folder,
        BenchDatabase() as db,
        ImageServer() as images,
    ):
        if keep:
            log(f"file_latency: keeping {folder}")
        tmp = Path(folder)
        url = db.fresh()
        home = dagster_home(tmp / "dagster_home")
        config = write_config(tmp / "site", url, sensor_interval=args.interval)
        staging = tmp / "site" / "staging"
        staging.mkdir(parents=True, exist_ok=True)
        total = 1 + single_runs + burst_files * args.burst_runs
        log(f"file_latency: preparing {total} files")
        outbox = tmp / "outbox"
        base = images.base_url
        warm = make_files(outbox, "warm", 1, args.seed, base)
        single = make_files(outbox, "one", single_runs, args.seed + 1000, base)
        bursts = [
            make_files(outbox, f"b{b}", burst_files, args.seed + 2000 + 500 * b, base)
            for b in range(args.burst_runs)
        ]
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "SMARTCROP_CONFIG": str(config),
            "DATABASE__URL": url,
            "FILEWATCHER__SENSOR_INTERVAL_SECONDS": str(args.interval),
        }
        watcher = Watcher(url)
        started = time.monotonic()
        daemon = Daemon(env, tmp / "daemon.log")
        try:
            # Warm-up (not measured): the daemon has loaded the code location and the
            # sensor has ticked once when the first file is through.
            landed[warm[0].name] = land(warm[0], staging)
            wait_for(watcher, daemon, {warm[0].name}, DAEMON_READY_TIMEOUT, 0.1)
            daemon_ready = time.monotonic() - started
            log(f"file_latency: daemon up, first file through in {daemon_ready:.1f} s")

            for index, path in enumerate(single, start=1):
                # Land at a random moment of the sensor's cycle.
                time.sleep(0 if args.smoke else rng.uniform(0, args.interval))
                at = landed[path.name] = land(path, staging)
                end, _ = wait_for(watcher, daemon, {path.name}, 120, 0.05)
                latency.add(end - at)
                singles.add(path.name)
                log(f"file_latency (a) run {index}: {end - at:.2f} s")

            deadline = args.burst_deadline or 1800
            for index, files in enumerate(bursts, start=1):
                names = {p.name for p in files}
                at = time.time()
                for path in files:
                    landed[path.name] = land(path, staging)
                end, seen = wait_for(
                    watcher, daemon, names, deadline, 0.25, raise_on_timeout=False
                )
                burst_window = (at, end)
                burst_names |= set(seen)
                done = len(seen)
                burst_done.append(done)
                if done == 0:
                    raise TimeoutError(
                        f"no file of the burst ingested in {deadline:.0f} s: "
                        + daemon.tail()
                    )
                first = min(seen.values()) - at
                burst_first.append(first)
                if done == len(names):
                    elapsed = end - at
                    rate = done / elapsed * 60
                else:
                    # Not all done by the deadline: the steady rate after the first
                    # file, projected to the whole burst.
                    projected = True
                    last = max(seen.values()) - at
                    rate = (done - 1) / max(last - first, 1e-9) * 60 if done > 1 else 0
                    elapsed = first + (len(names) - 1) / (rate / 60) if rate else 1e9
                burst.add(elapsed)
                burst_rate.append(rate)
                log(
                    f"file_latency (b) burst {index}: {done}/{len(files)} files by "
                    f"{end - at:.0f} s, {rate:.0f} files/min"
                    + (f", projected total {elapsed:.0f} s" if projected else "")
                )
            items = watcher.work_items()
        finally:
            watcher.close()
            daemon.stop()
        runs = run_phases(home)
        single_stages = breakdown(runs, landed, singles)
        burst_stages = breakdown(runs, landed, burst_names)
        sharing = other_runs(runs, *burst_window)
        files_per_min = statistics.median(burst_rate) if burst_rate else None
        targets = [
            Target(
                "(a) file landed -> work items (median)",
                latency.median,
                args.interval + EXTRA_SECONDS,
                "max",
                "s",
            ),
            Target(
                f"(b) burst of {burst_files} files"
                + (" (projected)" if projected else ""),
                burst.median,
                BURST_TARGET_SECONDS,
                "max",
                "s",
            ),
        ]
        met = all_met(targets)

        profile_path = None
        burst_missed = targets[1].met is False
        want = args.profile == "always" or (args.profile == "auto" and burst_missed)
        in_process: list[float] = []
        if want and profiler_available() and not args.smoke:
            profile_path = args.results_dir / "profiles" / f"{NAME}.txt"
            extra = make_files(tmp / "prof_files", "prof", 5, args.seed + 9000, base)
            prof_url = db.fresh()
            prof_home = dagster_home(tmp / "profile" / "dagster_home")
            prof_config = write_config(tmp / "profile", prof_url)
            log("file_latency: profiling small files' runs in process (pyinstrument)")
            in_process = run_child(
                MODULE,
                "in_process",
                {
                    "files": [str(p) for p in extra],
                    "db_url": prof_url,
                    "config": str(prof_config),
                    "dagster_home": str(prof_home),
                    "profile": str(profile_path),
                },
            ).result["seconds"]
            db.drop(prof_url)
        machine = machine_info(db.server_version())
        image_requests = images.requests

    return report(
        args,
        burst_files=burst_files,
        single_runs=single_runs,
        latency=latency,
        burst=burst,
        burst_done=burst_done,
        burst_first=burst_first,
        projected=projected,
        files_per_min=files_per_min,
        targets=targets,
        met=met,
        daemon_ready=daemon_ready,
        items=items,
        single_stages=single_stages,
        burst_stages=burst_stages,
        sharing=sharing,
        image_requests=image_requests,
        in_process=in_process,
        profile_path=profile_path,
        machine=machine,
    )


def main(argv: list[str] | None = None) -> int:
    return script_main(run, TASKS, argv)


if __name__ == "__main__":
    sys.exit(main())
