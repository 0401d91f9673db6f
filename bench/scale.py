"""Costs at scale: the API's answers on a small and on a large database, and how much
they grow between the two.

Each size gets a fresh database filled in SQL as a busy team fills it over a year:
work items spread over 365 days, 2 images per programme, 6 providers, 95% completed
and exported with 5 renditions each, the rest waiting for an operator or QA or
rejected, about 3 audit rows per item, 30 operators and 10 reviewers. The fill runs
with triggers off and secondary indexes dropped (rebuilt after, as a restore does),
then ``smartcrop_recount()`` rebuilds the kept counts, as after any bulk load.

Then ``smartcrop api --workers 2`` serves it and one client on loopback measures each
operation (p50 and p95 over ``--samples``, after warm-up): claim, save and release;
``/dashboard/Totals`` and ``ProviderList``; the report's first page under every
filter (none, provider, user, 7 days, all together), a middle and the last page;
the XLSX download of 7 days (cost per row); and the nightly manifest of 1,000 new
images. The growth of each operation is its p95 on the large database over its p95
on the small one; the small database is the baseline measured in the same run.

    python -m bench.scale [--smoke] [--sizes 100000,3000000] [--samples 20]

``make bench-scale`` runs the full sizes (about 20 minutes here); ``make test`` runs
``--smoke`` (tiny sizes, a few samples: it checks the script, measures nothing).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.claims import finish_body, tiny_png
from bench.common import (
    BenchDatabase,
    Target,
    all_met,
    api_server,
    create_users,
    fmt,
    log,
    login,
    machine_info,
    parse_args,
    percentile,
    script_main,
    seed_work_items,
    summary_line,
    write_config,
    write_result,
)

NAME = "scale"
FULL_SIZES = (100_000, 3_000_000)
SMOKE_SIZES = (2_000, 6_000)
PROVIDERS = ("NBCU", "Disney", "TMDB", "Sling", "Paramount", "Warner")
OPERATORS = 30
REVIEWERS = 10
WORKERS = 2
FLAT_P95_MS = 100.0
FLAT_GROWTH = 1.5
LATER_PAGE_MS = 1000.0
MANIFEST_IMAGES = 1000
CLAIM_SAMPLES_FACTOR = 3
DOWNLOAD_SAMPLES = 5  # 30 s each at 3M work items (270,000 rows)
DEFAULT_SAMPLES = 40  # the issue asks for at least 20; a p95 of 40 is steadier
BIG_DOWNLOAD_ROWS = 1_000_000  # at the large size; its memory target is 400 MB
BIG_DOWNLOAD_RSS_MB = 400.0
# Streamed as it is written: rows reach the client within seconds, not at the end.
BIG_DOWNLOAD_FIRST_MIB_S = 5.0

# -- the fill ---------------------------------------------------------------------

FILL_ITEMS = """
SELECT setseed(%(seed)s);
INSERT INTO smartcrop_programimage (link_object_id, providername, programtitle,
    imageurl, imagetypeid, languageid, width, height, status, currentstate,
    rejectreasonid, croppedby, croppedat, reviewedby, reviewedat, completedby,
    completedat, outputfilename, exportedat, createdat, updatedat)
SELECT 'SH' || lpad((g / 2)::text, 9, '0'),
       (%(providers)s::text[])[1 + (g / 2) %% 6],
       'Programme ' || (g / 2) %% 5000,
       'https://images.example.com/' || g || '.jpg',
       1 + g %% 6, 1, 2000, 3000,
       s.status, 0,
       CASE WHEN s.status = 4 THEN 1 END,
       CASE WHEN s.status >= 2 THEN s.op END,
       CASE WHEN s.status >= 2 THEN s.t + interval '2 hours' END,
       CASE WHEN s.status IN (3, 4) THEN s.qa END,
       CASE WHEN s.status IN (3, 4) THEN s.t + interval '5 hours' END,
       CASE WHEN s.status = 3 THEN s.qa END,
       CASE WHEN s.status = 3 THEN s.t + interval '5 hours' END,
       CASE WHEN s.status = 3 THEN 'SmartCrop_' || to_char(s.t, 'YYYYMMDD') || '.csv'
       END,
       CASE WHEN s.status = 3 THEN s.t + interval '1 day' END,
       s.t, s.t
FROM generate_series(0, %(items)s - 1) g
CROSS JOIN LATERAL (
  SELECT CASE WHEN r < 0.95 THEN 3 WHEN r < 0.97 THEN 1 WHEN r < 0.98 THEN 2
              ELSE 4 END AS status,
         %(start)s::timestamptz
           + make_interval(secs => (g::float8 / %(items)s) * 365 * 86400) AS t,
         (%(operators)s::int[])[1 + (random() * 1000)::int %% %(n_operators)s] AS op,
         (%(reviewers)s::int[])[1 + (random() * 1000)::int %% %(n_reviewers)s] AS qa
  FROM (SELECT random() AS r, g AS keep) pick
) s;
"""

FILL_RENDITIONS = """
INSERT INTO smartcrop_aspectratioimages (programimageid, link_object_id,
    aspectratioid, cropx, cropy, cropwidth, cropheight, storagekey, imageurl,
    filesize, createdby, createdat, updatedby, updatedat)
SELECT p.id, p.link_object_id, ar.id, 0, 0, 1080 * ar.ratiowidth / ar.ratioheight,
       1080, p.providername || '/' || p.id || '/' || ar.title || '.jpg',
       'https://cdn.example.com/' || p.id || '/' || ar.title || '.jpg', 20000,
       p.croppedby, p.croppedat, p.croppedby, p.croppedat
FROM smartcrop_programimage p CROSS JOIN smartcrop_aspectratio_lookup ar
WHERE p.status = 3;
"""

FILL_AUDIT = """
INSERT INTO smartcrop_programimage_audit (programimageid, link_object_id, userid,
    action, fromstatus, fromstate, tostatus, tostate, createdat)
SELECT p.id, p.link_object_id, p.croppedby,
       (ARRAY['claim', 'finish', 'approve'])[k],
       (ARRAY[1, 1, 2])[k], (ARRAY[0, 1, 1])[k], (ARRAY[1, 2, 3])[k],
       (ARRAY[1, 0, 0])[k], p.createdat + make_interval(hours => k)
FROM smartcrop_programimage p CROSS JOIN generate_series(1, 3) k
WHERE p.status >= 2;
"""

SECONDARY_INDEXES = """
SELECT i.indexname, i.indexdef FROM pg_indexes i
JOIN pg_class c ON c.relname = i.indexname
JOIN pg_index x ON x.indexrelid = c.oid
WHERE i.tablename IN ('smartcrop_programimage', 'smartcrop_aspectratioimages',
                      'smartcrop_programimage_audit')
  AND NOT x.indisprimary
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid)
"""


def fill(url: str, items: int, seed: int, operators: list[int], reviewers: list[int]):
    """The year of data, in SQL; returns (seconds, rows per table)."""
    import psycopg  # noqa: PLC0415

    start = time.perf_counter()
    first_day = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0)
    first_day -= timedelta(days=365)
    with psycopg.connect(BenchDatabase.libpq(url), autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET max_parallel_maintenance_workers = 2")
        indexes = conn.execute(SECONDARY_INDEXES).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        with conn.transaction():
            # A bulk load as a restore makes it: no triggers, no per-row checks;
            # the kept counts are rebuilt below, as `smartcrop recount` does.
            conn.execute("SET LOCAL session_replication_role = replica")
            conn.execute("SET LOCAL synchronous_commit = off")
            params = {
                "seed": (seed % 1000) / 1000,
                "providers": list(PROVIDERS),
                "items": items,
                "start": first_day,
                "operators": operators,
                "reviewers": reviewers,
                "n_operators": len(operators),
                "n_reviewers": len(reviewers),
            }
            for statement in FILL_ITEMS.strip().split(";\n"):
                if statement.strip():
                    conn.execute(statement, params)
            conn.execute(FILL_RENDITIONS)
            conn.execute(FILL_AUDIT)
        for _, definition in indexes:
            conn.execute(definition)
        conn.execute("VACUUM ANALYZE")
        conn.execute("SELECT * FROM smartcrop_recount()")
        # Gigabytes just written: flush them now, not while the timings run.
        conn.execute("CHECKPOINT")
        count = "SELECT count(*) FROM {}"
        rows = {
            table: conn.execute(count.format(table)).fetchone()[0]
            for table in (
                "smartcrop_programimage",
                "smartcrop_aspectratioimages",
                "smartcrop_programimage_audit",
            )
        }
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    return time.perf_counter() - start, rows, int(size[0]) if size else 0


# -- measuring ----------------------------------------------------------------------


@dataclass
class Op:
    name: str
    seconds: list[float] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    plan: str | None = None  # the report page's query plan, for a page

    def p(self, pct: float) -> float | None:
        return percentile(self.seconds, pct) if self.seconds else None

    def per_row(self) -> float | None:
        pairs = [s / r for s, r in zip(self.seconds, self.rows, strict=True) if r]
        return statistics.median(pairs) if pairs else None


def _time(op: Op, call: Callable[[], int | None], samples: int, warmup: int) -> None:
    for i in range(warmup + samples):
        start = time.perf_counter()
        rows = call()
        elapsed = time.perf_counter() - start
        if i >= warmup:
            op.seconds.append(elapsed)
            op.rows.append(rows or 0)


def measure(  # noqa: C901 - one list of operations, each a few lines
    base: str,
    url: str,
    config: Path,
    tokens: dict[str, tuple[int, str]],
    samples: int,
    manifest_samples: int,
) -> dict[str, Op]:
    import httpx  # noqa: PLC0415

    ops: dict[str, Op] = {}
    admin_id, admin = tokens["admin"]
    op_id, operator = tokens["operator"]
    today = datetime.now(UTC).date()
    week = {"fromDate": str(today - timedelta(days=6)), "toDate": str(today)}
    with httpx.Client(base_url=base, timeout=600) as client:

        def get(path: str, token: str, **params: Any) -> dict[str, Any]:
            response = client.get(
                path, params=params, headers={"Authorization": f"Bearer {token}"}
            )
            response.raise_for_status()
            return response.json()

        def timed(name: str, call: Callable[[], int | None], n: int = samples) -> Op:
            op = ops[name] = Op(name)
            _time(op, call, n, warmup=2)
            return op

        timed("Totals", lambda: get("/dashboard/Totals", operator) and None)
        timed("ProviderList", lambda: get("/dashboard/ProviderList", operator) and None)
        filters: dict[str, dict[str, Any]] = {
            "none": {},
            "provider": {"providerName": "NBCU"},
            "user": {"userId": str(op_id)},
            "7 days": week,
            "all": {**week, "providerName": "nbcu", "userId": str(op_id)},
        }
        last_pages: dict[str, int] = {}
        for label, params in filters.items():

            def page1(params: dict[str, Any] = params, label: str = label) -> int:
                data = get("/report/CroppedImageReport", admin, **params)["Data"]
                last_pages[label] = max(1, int(data["TotalPages"]))
                return len(data["Items"])

            timed(f"report page 1, {label}", page1).plan = report_plan(url, params, 1)
        for label in ("none", "7 days"):
            last = last_pages[label]
            for where, number in (("middle", max(1, last // 2)), ("last", last)):

                def page_n(label: str = label, number: int = number) -> int:
                    params = {**filters[label], "pageNumber": str(number)}
                    data = get("/report/CroppedImageReport", admin, **params)["Data"]
                    return len(data["Items"])

                timed(f"report {where} page, {label}", page_n).plan = report_plan(
                    url, filters[label], number
                )

        op = ops["download 7 days"] = Op("download 7 days")
        for i in range(1 + min(DOWNLOAD_SAMPLES, samples)):
            start = time.perf_counter()
            response = client.get(
                "/report/CroppedImageReportDownLoad",
                params=week,
                headers={"Authorization": f"Bearer {admin}"},
            )
            response.raise_for_status()
            elapsed = time.perf_counter() - start
            if i >= 1:  # rows counted outside the timed part
                op.seconds.append(elapsed)
                op.rows.append(_xlsx_rows(response.content))

        png = tiny_png()

        def claim() -> int:
            data = get(
                "/image/GetImageInfo", operator, providerName="NBCU", user=str(op_id)
            )["Data"]
            claimed.append(data)
            return len(data["Images"]) if data else 0

        def release() -> int:
            get("/image/UpdateUserLockStatus", operator, userId=str(op_id))
            return 0

        def save() -> int:
            data = claimed.pop()
            ids = [image["ImageId"] for image in data["Images"]]
            body = finish_body(data["ProgramId"], op_id, ids, png)
            response = client.post(
                "/image/SaveCropedImages",
                json=body,
                headers={"Authorization": f"Bearer {operator}"},
            )
            response.raise_for_status()
            return len(data["Images"])

        claimed: list[dict[str, Any]] = []
        for name in ("claim", "save", "release"):
            ops[name] = Op(name)
        # Three times the samples: a claim costs milliseconds, and the p95 of 20
        # is the second slowest, which one scheduler hiccup decides.
        for i in range(CLAIM_SAMPLES_FACTOR * samples + 2):
            for name, call in (("claim", claim), ("release", release)):
                start = time.perf_counter()
                call()
                if i >= 2:
                    ops[name].seconds.append(time.perf_counter() - start)
            claimed.clear()
            claim()
            start = time.perf_counter()
            save()
            if i >= 2:
                ops["save"].seconds.append(time.perf_counter() - start)
    ops["manifest, 1,000 new images"] = manifest(url, config, manifest_samples)
    return ops


def report_plan(url: str, params: dict[str, Any], number: int) -> str:
    """The plan of a report page's statement (the API's query parameters)."""
    from datetime import date  # noqa: PLC0415

    from sqlalchemy import create_engine  # noqa: PLC0415
    from sqlalchemy.orm import Session  # noqa: PLC0415

    from smartcrop import reporting  # noqa: PLC0415

    def day(name: str) -> date | None:
        return date.fromisoformat(params[name]) if name in params else None

    filters = reporting.ReportFilters(
        from_date=day("fromDate"),
        to_date=day("toDate"),
        provider_name=params.get("providerName"),
        user_id=int(params["userId"]) if "userId" in params else None,
    )
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            return reporting.explain_report_page(
                session, filters, reporting.Paging(number, reporting.DEFAULT_PAGE_SIZE)
            )
    finally:
        engine.dispose()


def _xlsx_rows(content: bytes) -> int:
    from openpyxl import load_workbook  # noqa: PLC0415

    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    if sheet is None:
        return 0
    return max(0, sum(1 for _ in sheet.iter_rows(values_only=True)) - 1)


QUEUE_FOR_EXPORT = """
WITH picked AS (
  SELECT id FROM smartcrop_programimage
  WHERE providername = 'Export' AND status = 1 AND currentstate = 0
  ORDER BY id LIMIT %(n)s
), done AS (
  UPDATE smartcrop_programimage p
  SET status = 3, croppedby = %(user)s, croppedat = now(), completedby = %(user)s,
      completedat = now(), updatedat = now()
  FROM picked WHERE p.id = picked.id
  RETURNING p.id, p.link_object_id
)
INSERT INTO smartcrop_aspectratioimages (programimageid, link_object_id,
    aspectratioid, cropx, cropy, cropwidth, cropheight, storagekey, imageurl,
    filesize, createdby)
SELECT d.id, d.link_object_id, ar.id, 0, 0, 10, 10, 'k/' || d.id, 'u/' || d.id,
       1000, %(user)s
FROM done d CROSS JOIN smartcrop_aspectratio_lookup ar
"""


UNSHIP = """
UPDATE smartcrop_programimage SET outputfilename = NULL, exportedat = NULL
WHERE providername = 'Export' AND status = 3 AND outputfilename IS NOT NULL
"""


def manifest(url: str, config: Path, samples: int) -> Op:
    """The nightly manifest, run as the schedule runs it, of 1,000 new images."""
    import psycopg  # noqa: PLC0415

    os.environ["SMARTCROP_CONFIG"] = str(config)
    from smartcrop.db import get_engine  # noqa: PLC0415
    from smartcrop.exports.manifest import export_manifest  # noqa: PLC0415
    from smartcrop.settings import load_settings  # noqa: PLC0415

    settings = load_settings()
    engine = get_engine(url)
    op = Op("manifest")
    with psycopg.connect(BenchDatabase.libpq(url), autocommit=True) as conn:
        user = conn.execute("SELECT min(id) FROM smartcrop_user").fetchone()[0]
        conn.execute(QUEUE_FOR_EXPORT, {"n": MANIFEST_IMAGES, "user": user})
        for i in range(samples + 1):
            # The same 1,000 images each time, made new again (the database stays
            # the size it was filled to): what a night with 1,000 new images ships.
            conn.execute(UNSHIP)
            start = time.perf_counter()
            result = export_manifest(settings, engine)
            elapsed = time.perf_counter() - start
            if result.status != "success":
                raise RuntimeError(f"the manifest did not succeed: {result}")
            if i >= 1:
                op.seconds.append(elapsed)
                op.rows.append(result.images)
    return op


# -- the run --------------------------------------------------------------------------


def _extra(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", default=None, help="work items, small,large")
    parser.add_argument("--samples", type=int, default=None)


def run_size(db: BenchDatabase, items: int, args: argparse.Namespace, work: Path):
    url = db.fresh()
    operators = [u for u, _ in create_users(url, "operator", OPERATORS, "op")]
    reviewers = [u for u, _ in create_users(url, "qa", REVIEWERS, "qa")]
    (admin_id, admin_email), *_ = create_users(url, "admin", 1, "admin")
    log(f"scale: filling {items:,} work items")
    seconds, rows, size = fill(url, items, args.seed, operators, reviewers)
    log(f"scale: filled in {seconds:.0f} s, {size / 1e9:.2f} GB, {rows}")
    folder = work / f"size-{items}"
    config = write_config(folder, url)
    samples = args.samples or (3 if args.smoke else DEFAULT_SAMPLES)
    manifest_samples = samples
    # Work the measurements use up, on top of the year (the same at every size):
    # programmes to claim and save, and images for each nightly manifest.
    seed_work_items(
        url,
        programmes=2 * (CLAIM_SAMPLES_FACTOR * samples + 2) + 10,
        images_per_programme=2,
        seed=args.seed,
        provider="NBCU",
    )
    seed_work_items(
        url,
        programmes=MANIFEST_IMAGES // 2,
        images_per_programme=2,
        seed=args.seed,
        provider="Export",
    )
    with api_server(url, config, WORKERS, folder / "api.log") as server:
        tokens = {
            "admin": (admin_id, login(server.base_url, admin_email)),
            "operator": (operators[0], login(server.base_url, "op1@bench.example")),
        }
        ops = measure(
            server.base_url,
            url,
            config,
            tokens,
            samples,
            manifest_samples,
        )
        big = big_download(server, url, tokens["admin"][1], BIG_DOWNLOAD_ROWS)
    db.drop(url)
    fill_info = {"fill_seconds": seconds, "rows": rows, "bytes": size}
    return {**fill_info, "big_download": big}, ops


def _worker_peak_rss_mb(server: Any) -> float:
    """The highest peak resident set (VmHWM) among the API's processes, in MB."""
    import psutil  # noqa: PLC0415 - comes with the embedded-server package

    root = psutil.Process(server.proc.pid)
    peaks = []
    for proc in [root, *root.children(recursive=True)]:
        try:
            status = Path(f"/proc/{proc.pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return max(peaks, default=0.0)


def big_download(server: Any, url: str, token: str, rows_wanted: int) -> dict:
    """The XLSX download of the most recent days that hold ``rows_wanted`` rows
    (all rows when there are fewer): its time, size, and the API's peak memory."""
    import httpx  # noqa: PLC0415
    import psycopg  # noqa: PLC0415

    with psycopg.connect(BenchDatabase.libpq(url)) as conn:
        row = conn.execute(
            """
            SELECT day, upto FROM (
              SELECT day, sum(sum(renditions)) OVER (ORDER BY day DESC) AS upto
              FROM smartcrop_report_days GROUP BY day
            ) d WHERE upto >= %(n)s ORDER BY day DESC LIMIT 1
            """,
            {"n": rows_wanted},
        ).fetchone()
        if row is None:  # fewer rows than wanted: all of them
            row = conn.execute(
                "SELECT min(day), coalesce(sum(renditions), 0)"
                " FROM smartcrop_report_days"
            ).fetchone()
    first_day, rows = row
    before = _worker_peak_rss_mb(server)
    start = time.perf_counter()
    size = 0
    first_byte = first_mib = None
    with httpx.stream(
        "GET",
        server.base_url + "/report/CroppedImageReportDownLoad",
        params={"fromDate": str(first_day)},
        headers={"Authorization": f"Bearer {token}"},
        timeout=1800,
    ) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes():
            size += len(chunk)
            # The workbook's small parts lead; its first MiB holds rows of the sheet.
            if first_byte is None:
                first_byte = time.perf_counter() - start
            if first_mib is None and size >= 1 << 20:
                first_mib = time.perf_counter() - start
    seconds = time.perf_counter() - start
    return {
        "rows": int(rows),
        "from_date": str(first_day),
        "seconds": seconds,
        "first_byte_seconds": first_byte,
        "first_mib_seconds": seconds if first_mib is None else first_mib,
        "bytes": size,
        "api_peak_rss_mb_before": round(before, 1),
        "api_peak_rss_mb": round(_worker_peak_rss_mb(server), 1),
    }


FLAT = (
    "claim",
    "save",
    "release",
    "Totals",
    "ProviderList",
    "report page 1, none",
    "report page 1, provider",
    "report page 1, user",
    "report page 1, 7 days",
    "report page 1, all",
)


def run(argv: list[str] | None = None) -> dict[str, Any]:  # noqa: C901
    args = parse_args(__doc__ or NAME, argv, _extra)
    sizes = (
        tuple(int(s) for s in args.sizes.split(","))
        if args.sizes
        else (SMOKE_SIZES if args.smoke else FULL_SIZES)
    )
    small, large = sizes
    results_dir: Path = args.results_dir
    work = Path(tempfile.mkdtemp(prefix="bench-scale-work-"))
    with BenchDatabase() as db:
        postgres = db.server_version()
        machine = machine_info(postgres)
        fills: dict[int, Any] = {}
        measured: dict[int, dict[str, Op]] = {}
        for items in sizes:
            fills[items], measured[items] = run_size(db, items, args, work)

    ms = 1000.0
    table: list[tuple[str, ...]] = [
        (
            "operation",
            f"p50 at {small:,}",
            f"p95 at {small:,}",
            f"p50 at {large:,}",
            f"p95 at {large:,}",
            "growth (p95)",
        )
    ]
    operations: dict[str, Any] = {}
    targets: list[Target] = []
    for name, op in measured[large].items():
        base = measured[small][name]
        growth = (op.p(95) or 0) / base.p(95) if base.p(95) else None
        if name.startswith("download"):
            per_row_small, per_row_large = base.per_row(), op.per_row()
            growth = per_row_large / per_row_small if per_row_small else None
        row = (
            name,
            fmt((base.p(50) or 0) * ms, "ms"),
            fmt((base.p(95) or 0) * ms, "ms"),
            fmt((op.p(50) or 0) * ms, "ms"),
            fmt((op.p(95) or 0) * ms, "ms"),
            fmt(growth) + ("x per row" if name.startswith("download") else "x"),
        )
        table.append(row)
        operations[name] = {
            "small": {"p50_s": base.p(50), "p95_s": base.p(95), "rows": base.rows},
            "large": {"p50_s": op.p(50), "p95_s": op.p(95), "rows": op.rows},
            "growth": growth,
            "samples": len(op.seconds),
        }
        if name in FLAT:
            targets.append(
                Target(f"{name} p95", (op.p(95) or 0) * ms, FLAT_P95_MS, "max", "ms")
            )
            targets.append(Target(f"{name} growth", growth, FLAT_GROWTH, "max", "x"))
        elif name.startswith("report"):
            targets.append(
                Target(f"{name} p95", (op.p(95) or 0) * ms, LATER_PAGE_MS, "max", "ms")
            )
        else:  # the download's cost per row, the manifest
            targets.append(Target(f"{name} growth", growth, FLAT_GROWTH, "max", "x"))
    worst = max((o["growth"] for o in operations.values() if o["growth"]), default=None)
    payload = {
        "metric": (
            f"p50/p95 of each API operation at {small:,} and at {large:,} work items "
            "(one client over HTTP, `smartcrop api --workers 2`); growth is p95 at the "
            "large size over p95 at the small one (for the download, the cost per "
            "row), the small database being the baseline measured in the same run"
        ),
        "project": {"operations": operations, "fills": fills},
        "project_headline": f"worst growth {fmt(worst)}x",
        "baseline": {"size": small},
        "baseline_headline": f"{small:,} work items",
        "ratio": worst or 1.0,
        "target": (
            f"p95 <= {FLAT_P95_MS:g} ms and growth <= {FLAT_GROWTH}x for claim, save, "
            "release, Totals, ProviderList and page 1 under every filter; later pages "
            f"<= {LATER_PAGE_MS:g} ms; download per row and manifest growth <= "
            f"{FLAT_GROWTH}x"
        ),
        "targets": [t.as_dict() for t in targets],
        "met": all_met(targets),
        "runs": min(len(o.seconds) for o in measured[large].values()),
        "smoke": bool(args.smoke),
        "machine": machine,
        "note": (
            "Fill: "
            + "; ".join(
                f"{n:,} items in {f['fill_seconds']:.0f} s, {f['bytes'] / 1e9:.2f} GB"
                for n, f in fills.items()
            )
        ),
    }
    big = fills[large]["big_download"]
    targets.append(
        Target(
            f"API peak RSS, XLSX of {big['rows']:,} rows",
            big["api_peak_rss_mb"],
            BIG_DOWNLOAD_RSS_MB,
            "max",
            "MB",
        )
    )
    targets.append(
        Target(
            f"first MiB of the XLSX of {big['rows']:,} rows",
            big["first_mib_seconds"],
            BIG_DOWNLOAD_FIRST_MIB_S,
            "max",
            "s",
        )
    )
    payload["targets"] = [t.as_dict() for t in targets]
    payload["met"] = all_met(targets)
    payload["note"] += (
        f"; the XLSX of {big['rows']:,} rows (from {big['from_date']}) took "
        f"{big['seconds']:.0f} s, its first byte after "
        f"{big['first_byte_seconds'] or 0:.2f} s and its first MiB after "
        f"{big['first_mib_seconds'] or 0:.2f} s, {big['bytes'] / 1e6:.0f} MB, "
        f"API peak RSS {big['api_peak_rss_mb']} MB"
    )
    grew = {
        name: measured[large][name].plan
        for name, o in operations.items()
        if o["growth"] and o["growth"] > FLAT_GROWTH and measured[large][name].plan
    }
    payload["plans_of_what_grew"] = grew
    written = write_result(results_dir, NAME, payload, table)
    if grew:
        with (results_dir / f"{NAME}.md").open("a") as md:
            md.write(f"\n## Plans at {large:,} work items of what grew\n")
            for name, plan in grew.items():
                md.write(f"\n{name}:\n\n```\n{plan}\n```\n")
    print(summary_line(written))
    return written


def main(argv: list[str] | None = None) -> int:
    return script_main(run, {}, argv)


if __name__ == "__main__":
    sys.exit(main())
