"""Ingest: one 100,000-row, 20-column manifest through the project's ingestion job,
end to end into work items, against two baselines measured in the same run.

- project: ``pipelines.runner.ingest_paths`` (what ``smartcrop ingest`` runs): the
  ``ingest_manifest`` Dagster job in process on a real instance (the repository's
  dagster.yaml), file -> checksum record -> parsed rows landed with binary COPY ->
  work items. Timed from the call to its return, in a fresh child process per run
  (its peak RSS is the ingestion's).
- floor (a): python-calamine reads the sheet, binary COPY lands every row into a bare
  20-column table. Nothing else: the fastest known way to get the rows in.
- legacy (b): pandas ``read_excel`` with openpyxl, then ``DataFrame.to_sql`` on a
  SQLAlchemy engine (psycopg URL).

Targets: project <= 2x floor, >= 10x faster than legacy, peak RSS <= 400 MB.

    python -m bench.ingest [--smoke] [--runs N] [--legacy-rows N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.harness.child import ChildTimedOut, run_child, script_main
from bench.harness.cli import log, parse_args
from bench.harness.config import dagster_home, write_config
from bench.harness.database import BenchDatabase
from bench.harness.profiling import profiler_available
from bench.harness.results import Target, all_met, machine_info
from bench.harness.timing import Stats
from bench.harness.xlsx import write_manifest, write_manifest_in_child
from bench.ingest import (
    FILE_NAME,
    FULL_ROWS,
    MODULE,
    NAME,
    PROJECT_TIMEOUT_SECONDS,
    SMOKE_ROWS,
    TARGET_RSS_MB,
    TARGET_VS_FLOOR,
    TARGET_VS_LEGACY,
)
from bench.ingest.report import report
from bench.ingest.tasks import TASKS

# ---------------------------------------------------------------------------------
# The benchmark
# ---------------------------------------------------------------------------------


def _extra(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rows", type=int, default=None, help=f"manifest rows (default {FULL_ROWS})"
    )
    parser.add_argument(
        "--legacy-rows",
        type=int,
        default=None,
        help="run the pandas baseline on the first N rows only and scale its time "
        "linearly (said in the result note); default: the full manifest",
    )
    parser.add_argument(
        "--project-timeout",
        type=float,
        default=PROJECT_TIMEOUT_SECONDS,
        help="a project run still going after this many seconds is stopped, counted "
        "as 'did not finish', and not repeated (default %(default)s)",
    )


def _project_params(
    tmp: Path, tag: str, manifest: Path, url: str, profile: Path | None = None
) -> dict[str, Any]:
    home = dagster_home(tmp / tag / "dagster_home")
    config = write_config(tmp / tag, url)
    return {
        "file": str(manifest),
        "db_url": url,
        "config": str(config),
        "dagster_home": str(home),
        "profile": str(profile) if profile else None,
    }


def run(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(__doc__ or NAME, argv, _extra)
    n_rows = args.rows or (SMOKE_ROWS if args.smoke else FULL_ROWS)
    legacy_rows = min(args.legacy_rows or n_rows, n_rows)
    project, floor, legacy = Stats(), Stats(), Stats()
    legacy_read = Stats()
    rss: dict[str, Stats] = {"project": Stats(), "floor": Stats(), "legacy": Stats()}
    outcomes: list[dict[str, Any]] = []
    unfinished: float | None = None  # the deadline a project run did not meet
    analyzed: dict[str, float] = {}
    steps: dict[str, Stats] = {}  # the job's steps, from Dagster's event log
    overhead = Stats()  # the run's time outside its steps
    phases: dict[str, float] = {}
    with (
        tempfile.TemporaryDirectory(prefix="smartcrop-bench-ingest-") as folder,
        BenchDatabase() as db,
    ):
        tmp = Path(folder)
        log(f"ingest: writing a {n_rows:,}-row manifest (seed {args.seed})")
        manifest = write_manifest_in_child(
            tmp / FILE_NAME.format(rows=n_rows), n_rows, args.seed
        )
        for run_no in range(1, args.runs + 1):
            # Interleaved, so that a burst of load from elsewhere hits all three.
            if unfinished is None:
                url = db.fresh()
                try:
                    child = run_child(
                        MODULE,
                        "project",
                        _project_params(tmp, f"run{run_no}", manifest, url),
                        timeout=args.project_timeout,
                    )
                except ChildTimedOut as exc:
                    unfinished = args.project_timeout
                    rss["project"].add(exc.peak_rss_mb)
                    log(f"ingest run {run_no}: project {exc}; not repeated")
                else:
                    project.add(child.result["seconds"])
                    rss["project"].add(child.peak_rss_mb)
                    outcomes.append(child.result["outcome"])
                    for step, value in child.result["steps"].items():
                        steps.setdefault(step, Stats()).add(value)
                    overhead.add(
                        child.result["seconds"] - sum(child.result["steps"].values())
                    )
                    log(
                        f"ingest run {run_no}: project {child.result['seconds']:.2f} s,"
                        f" peak RSS {child.peak_rss_mb:.0f} MB"
                    )
                finally:
                    db.drop(url)  # FORCE: also ends a statement left running

            url = db.fresh()
            child = run_child(MODULE, "floor", {"file": str(manifest), "db_url": url})
            db.drop(url)
            floor.add(child.result["seconds"])
            rss["floor"].add(child.peak_rss_mb)
            log(f"ingest run {run_no}: floor {child.result['seconds']:.2f} s")

            url = db.fresh()
            child = run_child(
                MODULE,
                "legacy",
                {
                    "file": str(manifest),
                    "db_url": url,
                    "limit": legacy_rows if legacy_rows < n_rows else None,
                },
            )
            db.drop(url)
            scale = n_rows / max(1, child.result["rows"])
            legacy.add(child.result["seconds"] * scale)
            legacy_read.add(child.result["read_seconds"])
            rss["legacy"].add(child.peak_rss_mb)
            log(f"ingest run {run_no}: legacy {child.result['seconds']:.2f} s")

        if unfinished is None:
            url = db.fresh()
            phases = run_child(
                MODULE, "phases", {"file": str(manifest), "db_url": url}
            ).result
            db.drop(url)
        else:
            # The same domain steps with an ANALYZE between landing and deriving:
            # what a run would take once the planner has statistics.
            url = db.fresh()
            log("ingest: the domain steps again, with ANALYZE after landing")
            try:
                analyzed = run_child(
                    MODULE,
                    "phases",
                    {"file": str(manifest), "db_url": url, "analyze": True},
                    timeout=args.project_timeout * 2,
                ).result
            except ChildTimedOut as exc:
                log(f"ingest: {exc}")
            finally:
                db.drop(url)

        # A run that did not finish is at least the deadline: the ratios are bounds.
        project_time = project.median if unfinished is None else unfinished
        vs_floor = project_time / floor.median
        vs_legacy = legacy.median / project_time
        targets = [
            Target("project / floor (a)", vs_floor, TARGET_VS_FLOOR, "max", "x"),
            Target("legacy (b) / project", vs_legacy, TARGET_VS_LEGACY, "min", "x"),
            Target(
                "peak RSS of the ingestion",
                rss["project"].max,
                TARGET_RSS_MB,
                "max",
                "MB",
            ),
        ]
        met = all_met(targets)
        profile_path = None
        want_profile = args.profile == "always" or (args.profile == "auto" and not met)
        if want_profile and profiler_available() and not args.smoke:
            profile_path = args.results_dir / "profiles" / f"{NAME}.txt"
            # Profile a size that finishes: the full manifest, or a 5,000-row one
            # when the full one did not (its derive step is the same statement).
            target_file = manifest
            if unfinished is not None:
                target_file = write_manifest(
                    tmp / "small" / "NBCU_profile_5000.xlsx", 5_000, args.seed
                )
            url = db.fresh()
            log(f"ingest: profiling a project run on {target_file.name} (pyinstrument)")
            try:
                run_child(
                    MODULE,
                    "project",
                    _project_params(tmp, "profile", target_file, url, profile_path),
                    timeout=args.project_timeout,
                )
            except ChildTimedOut as exc:
                log(f"ingest: the profiled run {exc}")
            finally:
                db.drop(url)
        machine = machine_info(db.server_version())

    return report(
        args,
        n_rows=n_rows,
        legacy_rows=legacy_rows,
        project=project,
        floor=floor,
        legacy=legacy,
        legacy_read=legacy_read,
        rss=rss,
        outcomes=outcomes,
        unfinished=unfinished,
        analyzed=analyzed,
        steps=steps,
        overhead=overhead,
        phases=phases,
        vs_floor=vs_floor,
        vs_legacy=vs_legacy,
        targets=targets,
        met=met,
        profile_path=profile_path,
        machine=machine,
    )


def main(argv: list[str] | None = None) -> int:
    return script_main(run, TASKS, argv)


if __name__ == "__main__":
    sys.exit(main())
