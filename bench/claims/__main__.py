"""Claims: 16 simulated operators over HTTP against the API, each claiming a
programme, saving a tiny rendition for each of its images and so finishing it, until
a fixed number of programmes is done; the same loop as bare SQL with SKIP LOCKED as
the baseline, in the same run, on the same database.

- project: ``smartcrop api --workers 2`` (uvicorn), 16 threads, each an operator
  with its own token (POST /user/Login) and keep-alive connection, looping
  ``GET /image/GetImageInfo?providerName=&user=`` then ``POST
  /image/SaveCropedImages`` (one 8x8 PNG at 1x1 per image, Status 2) until the
  provider's queue is empty.
- baseline: 16 threads, each with its own psycopg connection, looping one
  transaction that claims the oldest free programme with ``FOR UPDATE SKIP LOCKED``
  (on each programme's first free row, so a programme is never split) and locks all
  its rows, then one that inserts the renditions and moves the rows on.

Each run seeds its own queue (a provider of its own), so runs never see each
other's rows. Reported: programmes finished per second (claim + save), claim
latency p50/p99, save latency, and duplicates (a programme handed to more than one
claim; must be 0). Targets: p99 claim latency <= 50 ms, 0 duplicates.

    python -m bench.claims [--smoke] [--runs N] [--programmes N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.claims import (
    IMAGES_PER_PROGRAMME,
    MAX_SECONDS,
    MEASURES,
    MODULE,
    NAME,
    OPERATORS,
    PROGRAMMES,
    SMOKE_OPERATORS,
    SMOKE_PROGRAMMES,
    TARGET_P99_MS,
    WORKERS,
)
from bench.claims.cpu import CpuMeter
from bench.claims.in_process import task_profile
from bench.claims.loops import LoopResult, http_loop, sql_loop
from bench.claims.report import report
from bench.harness.child import run_child, script_main
from bench.harness.claim_cycle import tiny_png
from bench.harness.cli import log, parse_args
from bench.harness.config import write_config
from bench.harness.database import BenchDatabase
from bench.harness.images import ImageServer
from bench.harness.profiling import profiler_available
from bench.harness.results import (
    Target,
    all_met,
    machine_info,
    missing_modules,
    not_yet_measurable,
)
from bench.harness.seed import BENCH_PASSWORD, create_users, seed_work_items
from bench.harness.servers import api_server, login
from bench.harness.timing import Stats, percentile

TASKS = {"profile": task_profile}


def _extra(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--programmes", type=int, default=None)
    parser.add_argument("--operators", type=int, default=None)
    parser.add_argument("--workers", type=int, default=None)


def _summary(result: LoopResult) -> dict[str, Any]:
    return {
        "programmes_finished": result.finished,
        "seconds": round(result.seconds, 3),
        "per_s": round(result.finished / result.seconds, 1) if result.seconds else 0,
        "claim_p50_ms": round(percentile(result.claim_latency, 50) * 1000, 2),
        "claim_p99_ms": round(percentile(result.claim_latency, 99) * 1000, 2),
        "save_p50_ms": round(percentile(result.save_latency, 50) * 1000, 2),
        "save_p99_ms": round(percentile(result.save_latency, 99) * 1000, 2),
        "duplicates": result.duplicates(),
        "duplicates_cross_operator": result.cross_operator(),
        "repeats_same_operator": result.same_operator_repeats(),
        "errors": len(result.errors),
    }


def run(argv: list[str] | None = None) -> dict[str, Any]:  # noqa: C901
    args = parse_args(__doc__ or NAME, argv, _extra)
    missing = missing_modules("smartcrop.workflow.claims", "api.routes.image")
    if missing:
        return not_yet_measurable(
            args.results_dir,
            NAME,
            "claims/s, claim latency p50/p99 and duplicates of 16 operators over HTTP",
            f"claim p99 <= {TARGET_P99_MS:g} ms over HTTP; 0 duplicates",
            missing,
        )
    programmes = args.programmes or (SMOKE_PROGRAMMES if args.smoke else PROGRAMMES)
    n_operators = args.operators or (SMOKE_OPERATORS if args.smoke else OPERATORS)
    workers = args.workers or (1 if args.smoke else WORKERS)
    max_seconds = 30.0 if args.smoke else MAX_SECONDS
    png = tiny_png()
    project = {m: Stats() for m in MEASURES}
    baseline = {m: Stats() for m in MEASURES}
    runs: list[dict[str, Any]] = []
    duplicates = {"project": 0, "baseline": 0}
    errors: list[str] = []
    serial: dict[str, Any] = {}
    cpu = {key: Stats() for key in ("api", "postgres", "client")}
    with (
        tempfile.TemporaryDirectory(prefix="smartcrop-bench-claims-") as folder,
        BenchDatabase() as db,
        ImageServer() as images,
    ):
        tmp = Path(folder)
        url = db.fresh()
        log(f"claims: creating {n_operators} operators")
        users = create_users(url, "operator", n_operators, "operator")
        config = write_config(tmp / "site", url)
        with api_server(url, config, workers, tmp / "api.log") as api:
            tokens = [(uid, login(api.base_url, email)) for uid, email in users]
            meter = CpuMeter.create(api.proc.pid, db.data_dir)
            # Warm-up: every worker process has its connections and imports.
            warm = "WARMUP"
            seed_work_items(
                url,
                programmes=n_operators * 2,
                images_per_programme=IMAGES_PER_PROGRAMME,
                seed=args.seed,
                provider=warm,
                image_base=images.base_url,
            )
            http_loop(api.base_url, tokens, warm, png, max_seconds)
            for run_no in range(1, args.runs + 1):
                for kind in ("project", "baseline"):
                    provider = f"{kind[:4].upper()}{run_no}"
                    seed_work_items(
                        url,
                        programmes=programmes,
                        images_per_programme=IMAGES_PER_PROGRAMME,
                        seed=args.seed + run_no,
                        provider=provider,
                        image_base=images.base_url,
                    )
                    used: dict[str, float] = {}
                    if kind == "project":
                        before = meter.snapshot() if meter else None
                        result = http_loop(
                            api.base_url, tokens, provider, png, max_seconds
                        )
                        if meter and before:
                            used = CpuMeter.per_programme(
                                before, meter.snapshot(), result.finished
                            )
                            for key, value in used.items():
                                cpu[key].add(value)
                    else:
                        result = sql_loop(
                            url, [u for u, _ in users], provider, max_seconds
                        )
                    summary = _summary(result)
                    if used:
                        summary["cpu_ms_per_programme"] = used
                    runs.append({"run": run_no, "kind": kind, **summary})
                    target = project if kind == "project" else baseline
                    for m in MEASURES:
                        target[m].add(summary[m])
                    duplicates[kind] += summary["duplicates"]
                    errors.extend(result.errors[:3])
                    log(f"claims run {run_no} {kind}: {summary}")
            # One operator alone: the service time of a claim, without queueing.
            provider = "SERIAL"
            seed_work_items(
                url,
                programmes=20 if args.smoke else 100,
                images_per_programme=IMAGES_PER_PROGRAMME,
                seed=args.seed + 99,
                provider=provider,
                image_base=images.base_url,
            )
            serial = _summary(
                http_loop(api.base_url, tokens[:1], provider, png, max_seconds)
            )
            log(f"claims: one operator alone: {serial}")

        p99 = project["claim_p99_ms"].median
        targets = [
            Target("claim latency p99 (HTTP)", p99, TARGET_P99_MS, "max", "ms"),
            Target(
                "duplicates (all project runs)", duplicates["project"], 0, "max", ""
            ),
        ]
        met = all_met(targets)
        profile_path = None
        want = args.profile == "always" or (args.profile == "auto" and met is False)
        profile_result: dict[str, Any] = {}
        if not args.smoke:
            # In process, one operator: the statements each request sends, and (when
            # a profile is wanted) where its time goes.
            profiling = want and profiler_available()
            if profiling:
                profile_path = args.results_dir / "profiles" / f"{NAME}.txt"
            provider = "PROFILE"
            seed_work_items(
                url,
                programmes=200 if profiling else 20,
                images_per_programme=IMAGES_PER_PROGRAMME,
                seed=args.seed + 7,
                provider=provider,
                image_base=images.base_url,
            )
            log("claims: the claim + save requests in process (statements, profile)")
            profile_result = run_child(
                MODULE,
                "profile",
                {
                    "config": str(config),
                    "db_url": url,
                    "email": users[0][1],
                    "password": BENCH_PASSWORD,
                    "user_id": users[0][0],
                    "provider": provider,
                    "profile": str(profile_path) if profile_path else None,
                },
            ).result
        machine = machine_info(db.server_version())
        served = images.requests

    return report(
        args,
        n_operators=n_operators,
        programmes=programmes,
        workers=workers,
        project=project,
        baseline=baseline,
        duplicates=duplicates,
        runs=runs,
        errors=errors,
        serial=serial,
        cpu=cpu,
        targets=targets,
        met=met,
        profile_result=profile_result,
        profile_path=profile_path,
        machine=machine,
        served=served,
    )


def main(argv: list[str] | None = None) -> int:
    return script_main(run, TASKS, argv)


if __name__ == "__main__":
    sys.exit(main())
