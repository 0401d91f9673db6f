"""TeamStats: a month of audit rows (50 operators, 100,000 images), the month and one
day, against the same query on the audit indexes before migration 0008, same run.

The data is the audit trail a month of work leaves, written with COPY in the order
the moves happened (ids follow time, as in production): each programme of two
images claimed by an operator, each image finished a few minutes later (2% rejected
by the operator instead), 60% of the finishes reviewed by one of 5 QA users (85%
approved, 10% sent back, 5% rejected), every sent-back image claimed, finished and
approved again; two renditions per finished image; the work items in their final
states. Then ``VACUUM ANALYZE``, as autovacuum would have done.

- project: ``smartcrop.reporting.team_stats.team_stats`` (what ``GET
  /report/TeamStats`` runs) for the month and for one day, in a transaction.
- baseline: the same call in a transaction that first puts the audit's indexes back
  as they were before migration 0008 (its index by work item and moves dropped, the
  plain ``programimageid`` index made again; rolled back afterwards, and not timed).

Each is timed several times, interleaved, on one connection: the median wall time,
and the server's CPU time (``server_cpu_seconds``). Both must give the same rows.
Target: the month under 1 s.

    python -m bench.team_stats [--smoke] [--runs N]
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.harness.cli import log, parse_args
from bench.harness.database import BenchDatabase
from bench.harness.results import fmt, machine_info, summary_line, write_result

NAME = "team_stats"
FULL = {"operators": 50, "reviewers": 5, "images": 100_000, "days": 30}
SMOKE = {"operators": 5, "reviewers": 2, "images": 400, "days": 3}
START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
TARGET_SECONDS = 1.0
# The baseline's schema: the audit's indexes before migration 0008.
BEFORE_0008 = (
    "DROP INDEX ix_smartcrop_programimage_audit_image_moves",
    "CREATE INDEX ix_smartcrop_programimage_audit_programimageid"
    " ON smartcrop_programimage_audit (programimageid)",
)
PROVIDERS = (("NBCU", 0.7), ("TMDB", 0.3))

AUDIT_COLUMNS = (
    "programimageid, link_object_id, userid, action, fromstatus, fromstate,"
    " tostatus, tostate, rejectreasonid, details, createdat"
)
MOVES = {  # action -> (from status, from state, to status, to state)
    "claim": (1, 0, 1, 1),
    "finish_qa": (1, 1, 2, 0),
    "finish_done": (1, 1, 3, 0),
    "reject": (1, 1, 4, 0),
    "qa_claim": (2, 0, 2, 1),
    "approve": (2, 1, 3, 0),
    "send_back": (2, 1, 1, 0),
    "qa_reject": (2, 1, 4, 0),
}


class Month:
    """The generated trail: audit rows, final work items and renditions."""

    def __init__(self, size: dict[str, int], seed: int, users: dict[str, list[int]]):
        self.rng = random.Random(seed)  # noqa: S311 - test data
        self.size = size
        self.operators = users["operator"]
        self.reviewers = users["qa"]
        self.audit: list[tuple[Any, ...]] = []
        self.items: list[tuple[Any, ...]] = []
        self.renditions: dict[tuple[int, int], tuple[Any, ...]] = {}
        for programme in range(size["images"] // 2):
            self._programme(programme)
        self.audit.sort(key=lambda row: row[-1])  # ids follow time

    def _move(
        self, image: int, pid: str, user: int, name: str, at: dt.datetime
    ) -> None:
        action = name.split("_")[0] if name.startswith("finish") else name
        reason = 7 if name in ("send_back", "qa_reject", "reject") else None
        self.audit.append((image, pid, user, action, *MOVES[name], reason, "{}", at))

    def _work(self, image: int, pid: str, op: int, claimed: dt.datetime) -> tuple:
        """Claim to finish of one image; (finish time, to QA?, rejected?)."""
        rng = self.rng
        done = claimed + dt.timedelta(seconds=rng.lognormvariate(5.0, 0.6))
        if rng.random() < 0.02:
            self._move(image, pid, op, "reject", done)
            return done, False, True
        to_qa = rng.random() < 0.6
        self._move(image, pid, op, "finish_qa" if to_qa else "finish_done", done)
        for ratio in (1, 5):
            self.renditions[image, ratio] = (image, pid, ratio, op, done)
        return done, to_qa, False

    def _programme(self, n: int) -> None:
        rng, size = self.rng, self.size
        provider = rng.choices(*zip(*PROVIDERS, strict=True))[0]
        pid = f"SH{provider}{n:08d}"
        day = n * size["days"] // (size["images"] // 2)
        claimed = START + dt.timedelta(days=day, hours=8 + rng.uniform(0, 9))
        op = rng.choice(self.operators)
        images = [2 * n + 1, 2 * n + 2]
        for image in images:
            self._move(image, pid, op, "claim", claimed)
        at = claimed
        for image in images:
            status, by = 3, op
            done, to_qa, rejected = self._work(image, pid, op, at)
            at = done
            if rejected:
                status = 4
            while to_qa:
                qa = rng.choice(self.reviewers)
                picked = done + dt.timedelta(minutes=rng.uniform(10, 360))
                decided = picked + dt.timedelta(seconds=rng.uniform(30, 180))
                self._move(image, pid, qa, "qa_claim", picked)
                outcome = rng.choices(
                    ("approve", "send_back", "qa_reject"), (85, 10, 5)
                )[0]
                self._move(image, pid, qa, outcome, decided)
                status, by, to_qa = (3 if outcome == "approve" else 4), qa, False
                if outcome == "send_back":
                    again = rng.choice(self.operators)
                    reclaimed = decided + dt.timedelta(minutes=rng.uniform(5, 120))
                    self._move(image, pid, again, "claim", reclaimed)
                    done, to_qa, rejected = self._work(image, pid, again, reclaimed)
                    status, by = (4 if rejected else 3), again
            self.items.append(
                (image, pid, provider, f"http://127.0.0.1:9/{image}.jpg", status)
                + ((7, None) if status == 4 else (None, by))
                + (START - dt.timedelta(days=1),)
            )


def _users(url: str, size: dict[str, int]) -> dict[str, list[int]]:
    import psycopg  # noqa: PLC0415

    made: dict[str, list[int]] = {}
    with psycopg.connect(BenchDatabase.libpq(url), autocommit=True) as conn:
        for role, count in (("operator", size["operators"]), ("qa", size["reviewers"])):
            made[role] = [
                row[0]
                for row in conn.execute(
                    "INSERT INTO smartcrop_user (username, emailid, passwordhash,"
                    " roleid) SELECT %(role)s || ' ' || n,"
                    " %(role)s || n || '@bench.example', 'not-a-hash', r.id"
                    " FROM generate_series(1, %(count)s) n, smartcrop_role r"
                    " WHERE r.rolename = %(role)s ORDER BY n RETURNING id",
                    {"role": role, "count": count},
                )
            ]
    return made


def fill(url: str, size: dict[str, int], seed: int) -> dict[str, int]:
    """The month into a fresh database; how many rows of each table."""
    import psycopg  # noqa: PLC0415

    month = Month(size, seed, _users(url, size))
    copies: list[tuple[str, Iterator[tuple[Any, ...]]]] = [
        (
            "smartcrop_programimage (id, link_object_id, providername, imageurl,"
            " status, rejectreasonid, completedby, createdat)",
            iter(month.items),
        ),
        (
            "smartcrop_aspectratioimages (programimageid, link_object_id,"
            " aspectratioid, cropx, cropy, cropwidth, cropheight, storagekey,"
            " imageurl, createdby, updatedby, createdat, updatedat)",
            (
                (i, p, r, 0, 0, 160, 90, f"k/{i}/{r}", f"u/{i}/{r}", u, u, at, at)
                for i, p, r, u, at in month.renditions.values()
            ),
        ),
        (f"smartcrop_programimage_audit ({AUDIT_COLUMNS})", iter(month.audit)),
    ]
    with psycopg.connect(BenchDatabase.libpq(url), autocommit=True) as conn:
        with conn.transaction(), conn.cursor() as cursor:
            for table, rows in copies:
                with cursor.copy(f"COPY {table} FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('smartcrop_programimage', 'id'),"
                " (SELECT max(id) FROM smartcrop_programimage))"
            )
        for table in ("programimage", "aspectratioimages", "programimage_audit"):
            conn.execute(f"VACUUM ANALYZE smartcrop_{table}")
    return {
        "work_items": len(month.items),
        "renditions": len(month.renditions),
        "audit_rows": len(month.audit),
    }


def server_cpu_seconds(data_dir: Path) -> float:
    """CPU time the PostgreSQL server has used so far: its live processes' and, from
    the postmaster, its ended children's (parallel workers). Waiting for a core on a
    loaded machine is not in it, so it is what the query costs, load or not."""
    postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        if int(stat.parent.name) == postmaster:
            ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
        elif int(fields[1]) == postmaster:
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _timed(engine: Any, data_dir: Path, filters: Any, before_0008: bool) -> tuple:
    """(wall seconds, server CPU seconds, rows) of one call, in its transaction (on
    the engine's one connection: no backend starts or ends while it is measured)."""
    from sqlalchemy import text  # noqa: PLC0415
    from sqlalchemy.orm import Session  # noqa: PLC0415

    from smartcrop.reporting.team_stats import team_stats  # noqa: PLC0415

    with Session(engine) as session, session.begin():
        if before_0008:
            for statement in BEFORE_0008:
                session.execute(text(statement))
        cpu = server_cpu_seconds(data_dir)
        start = time.perf_counter()
        rows = team_stats(session, filters)
        seconds = time.perf_counter() - start
        cpu = server_cpu_seconds(data_dir) - cpu
        session.rollback()
    return seconds, cpu, rows


def run(argv: list[str] | None = None) -> dict[str, Any]:
    from sqlalchemy import create_engine, pool  # noqa: PLC0415

    from smartcrop.reporting.team_stats import TeamStatsFilters  # noqa: PLC0415

    args = parse_args(__doc__ or NAME, argv)
    size = SMOKE if args.smoke else FULL
    runs = args.runs if args.smoke else max(args.runs, 5)
    middle = (START + dt.timedelta(days=size["days"] // 2)).date()
    last = (START + dt.timedelta(days=size["days"] - 1)).date()
    periods = {
        "month": TeamStatsFilters(START.date(), last),
        "one day": TeamStatsFilters(middle, middle),
    }
    sides = ("project", "baseline")
    wall: dict[tuple[str, str], list[float]] = {
        (p, s): [] for p in periods for s in sides
    }
    cpu: dict[tuple[str, str], list[float]] = {
        (p, s): [] for p in periods for s in sides
    }
    shape: dict[str, int] = {}
    with BenchDatabase() as db:
        url = db.fresh()
        began = time.perf_counter()
        counts = fill(url, size, args.seed)
        log(f"team_stats: filled {counts} in {time.perf_counter() - began:.0f} s")
        engine = create_engine(url, poolclass=pool.SingletonThreadPool)
        for period, filters in periods.items():
            _timed(engine, db.data_dir, filters, False)  # warm the cache for both
            for run_no in range(1, runs + 1):
                found = {}
                for side in sides:
                    seconds, used, found[side] = _timed(
                        engine, db.data_dir, filters, side == "baseline"
                    )
                    wall[period, side].append(seconds)
                    cpu[period, side].append(used)
                if json.dumps(found["project"]) != json.dumps(found["baseline"]):
                    raise RuntimeError(f"{period}: the two queries disagree")
                shape[period] = len(found["project"])
                log(
                    f"team_stats {period} run {run_no}: "
                    + ", ".join(
                        f"{side} {wall[period, side][-1] * 1000:.0f} ms "
                        f"(CPU {cpu[period, side][-1] * 1000:.0f} ms)"
                        for side in sides
                    )
                )
        engine.dispose()
        machine = machine_info(db.server_version())

    def med(
        period: str, side: str, of: dict[tuple[str, str], list[float]] = wall
    ) -> float:
        return statistics.median(of[period, side])

    def cell(period: str, side: str) -> str:
        return f"{fmt(med(period, side) * 1000)} ({fmt(med(period, side, cpu) * 1000)})"

    month, day = med("month", "project"), med("one day", "project")
    targets = [
        {
            "name": "month, median",
            "value": round(month, 4),
            "limit": f"<= {TARGET_SECONDS:g} s",
            "met": month <= TARGET_SECONDS,
        }
    ]

    def block(side: str) -> dict[str, Any]:
        return {
            period: {
                "wall": _stats(wall[period, side]),
                "cpu": _stats(cpu[period, side]),
            }
            for period in periods
        }

    payload: dict[str, Any] = {
        "metric": (
            "seconds of smartcrop.reporting.team_stats.team_stats (what GET "
            "/report/TeamStats runs) over a month and over one day, median of the "
            "runs: wall time, and the PostgreSQL server's CPU time (what the query "
            "costs whatever the load); ratio = the month's wall time over the "
            "month's on the indexes before migration 0008"
        ),
        "unit": "s",
        "seed": args.seed,
        "smoke": args.smoke,
        "data": {**size, **counts},
        "project": {
            "name": "team_stats on the audit index of migration 0008",
            **block("project"),
        },
        "baseline": {
            "name": "the same call on the audit indexes before migration 0008",
            **block("baseline"),
        },
        "rows": shape,
        "ratio": round(month / med("month", "baseline"), 4),
        "cpu_ratio": round(
            med("month", "project", cpu) / max(med("month", "baseline", cpu), 1e-9), 4
        ),
        "target": f"month <= {TARGET_SECONDS:g} s",
        "targets": targets,
        "met": all(t["met"] for t in targets),
        "runs": runs,
        "machine": machine,
        "note": (
            "Smoke run: tiny data, the numbers mean nothing."
            if args.smoke
            else "Wall times move with the machine's load (other workers share its "
            "2 cores; see the load average below); the baseline runs interleaved "
            "with the project on the same database and warm cache, and the server "
            "CPU times say what each costs without the wait for a core."
        ),
        "project_headline": f"month {fmt(month * 1000)} ms, day {fmt(day * 1000)} ms",
        "baseline_headline": (
            f"month {fmt(med('month', 'baseline') * 1000)} ms, "
            f"day {fmt(med('one day', 'baseline') * 1000)} ms"
        ),
    }
    table = [
        ("period", "rows", "SmartCrop ms (CPU)", "before 0008 ms (CPU)", "ratio"),
        *(
            (
                p,
                str(shape[p]),
                cell(p, "project"),
                cell(p, "baseline"),
                f"{fmt(med(p, 'project') / med(p, 'baseline'))}x",
            )
            for p in periods
        ),
    ]
    payload = write_result(args.results_dir, NAME, payload, table)
    print(summary_line(payload))
    return payload


def _stats(values: list[float]) -> dict[str, Any]:
    median = round(statistics.median(values), 4)
    return {"median_s": median, "values_s": [round(v, 4) for v in values]}


if __name__ == "__main__":
    run(sys.argv[1:])
