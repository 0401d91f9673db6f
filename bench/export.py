"""Export: the nightly manifest of 100,000 renditions to a local target, against
``COPY (the same select) TO STDOUT`` into a file, in the same run.

- project: ``smartcrop.exports.manifest.export_manifest`` with no remote target
  (``smartcrop_filewatcher_batchjob.targets: []``: the file in ``output_dir`` only),
  which prepares the rows, picks and locks them, streams the CSV, and stamps them.
- baseline: one ``COPY (SELECT ... same joins, same order ...) TO STDOUT (FORMAT
  CSV, HEADER)`` written to a file as it streams.

Each run is a child process on its own clone of a seeded database (20,000 completed
images x 5 aspect ratios), so every run exports the same 100,000 rows. Target:
project <= 2x baseline.

    python -m bench.export [--smoke] [--runs N]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.harness.child import run_child, script_main
from bench.harness.cli import log, parse_args
from bench.harness.config import write_config
from bench.harness.database import BenchDatabase
from bench.harness.profiling import maybe_profile, profiler_available
from bench.harness.results import (
    Target,
    all_met,
    fmt,
    machine_info,
    missing_modules,
    not_yet_measurable,
    summary_line,
    write_result,
)
from bench.harness.seed import create_users, seed_renditions, seed_work_items
from bench.harness.timing import Stats

NAME = "export"
MODULE = "bench.export"
IMAGES = 20_000  # x 5 aspect ratios = 100,000 renditions
SMOKE_IMAGES = 40
TARGET_RATIO = 2.0

NOISE = (
    "Absolute times are noisy: other engineers' test suites share this 2-core "
    "machine. The COPY baseline runs interleaved with the project in the same run, "
    "on identical clones of one database, so the ratio is what to compare."
)

# What profiling found (2026-11-26, profiles/export.txt); quoted in the note when
# the target is missed.
FINDINGS = (
    "Where the time goes (pyinstrument): PostgreSQL now writes the CSV (COPY ... "
    "FORMAT CSV, with CompletedAt, the CDN rewrite and empty strings handled in the "
    "SELECT) and write_rows streams its bytes into the file, turning row ends into "
    "CRLF in 64 KiB blocks: about 60% of the export, nearly all of it psycopg "
    "handing over the 100,000 COPY rows one at a time, the same loop the baseline "
    "runs. Most of the rest (about 35%) is work the baseline does not do: choosing "
    "and locking the batch and, above all, stamping it (an UPDATE of every exported "
    "image; not HOT, since outputfilename is indexed, so every row also gets new "
    "entries in four indexes). The ratio therefore sits near the 2x target and "
    "moves with the machine's load; what is left to cut is the stamp (a schema "
    "question) or psycopg's per-row COPY overhead."
)

# The manifest's rows as one COPY: the columns, joins and order of the contract
# (section 6) and of smartcrop.exports.manifest, without its batch table.
BASELINE_COPY = """
COPY (
    SELECT p.link_object_id AS "ProgramId", p.providername AS "ProviderName",
           p.programtitle AS "ProgramTitle", p.id AS "ImageId",
           coalesce(t.title, p.imagetype) AS "ImageType",
           coalesce(l.title, p.language) AS "Language",
           ar.title AS "AspectRatio", a.cropx AS "CropX", a.cropy AS "CropY",
           a.cropwidth AS "CropWidth", a.cropheight AS "CropHeight",
           a.imageurl AS "RenditionUrl", p.imageurl AS "SourceImageUrl",
           u.username AS "CompletedBy",
           to_char(p.completedat AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
             AS "CompletedAt"
    FROM smartcrop_programimage p
    JOIN smartcrop_aspectratioimages a ON a.programimageid = p.id
    JOIN smartcrop_aspectratio_lookup ar ON ar.id = a.aspectratioid
    LEFT JOIN smartcrop_imagetype_lookup t ON t.id = p.imagetypeid
    LEFT JOIN smartcrop_imagelanguage_lookup l ON l.id = p.languageid
    LEFT JOIN smartcrop_user u ON u.id = p.completedby
    WHERE p.status = 3 AND p.outputfilename IS NULL
    ORDER BY p.link_object_id COLLATE "C", p.id, ar.title COLLATE "C"
) TO STDOUT (FORMAT CSV, HEADER)
"""


# ---------------------------------------------------------------------------------
# Child tasks
# ---------------------------------------------------------------------------------


def task_project(p: dict[str, Any]) -> dict[str, Any]:
    os.environ["SMARTCROP_CONFIG"] = p["config"]
    from smartcrop.db import get_engine  # noqa: PLC0415
    from smartcrop.exports.manifest import export_manifest  # noqa: PLC0415
    from smartcrop.settings import load_settings  # noqa: PLC0415

    settings = load_settings()
    # Handed in, as the Dagster resource hands it in (it connects on first use).
    engine = get_engine(p["db_url"])
    profile = Path(p["profile"]) if p.get("profile") else None
    with maybe_profile(profile):
        start = time.perf_counter()
        result = export_manifest(settings, engine)
        seconds = time.perf_counter() - start
    if result.status != "success" or result.path is None:
        raise RuntimeError(f"the export did not succeed: {result}")
    return {
        "seconds": seconds,
        "rows": result.rows,
        "images": result.images,
        "bytes": result.path.stat().st_size,
    }


def task_baseline(p: dict[str, Any]) -> dict[str, Any]:
    import psycopg  # noqa: PLC0415

    out = Path(p["out"])
    with psycopg.connect(BenchDatabase.libpq(p["db_url"])) as conn:
        start = time.perf_counter()
        with (
            out.open("wb") as handle,
            conn.cursor() as cursor,
            cursor.copy(BASELINE_COPY) as copy,
        ):
            for chunk in copy:
                handle.write(chunk)
        seconds = time.perf_counter() - start
    with out.open("rb") as handle:
        rows = sum(1 for _ in handle) - 1
    return {"seconds": seconds, "rows": rows, "bytes": out.stat().st_size}


TASKS = {"project": task_project, "baseline": task_baseline}


# ---------------------------------------------------------------------------------
# The benchmark
# ---------------------------------------------------------------------------------


def _database_name(url: str) -> str:
    from sqlalchemy import make_url  # noqa: PLC0415

    return str(make_url(url).database)


def run(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(__doc__ or NAME, argv)
    missing = missing_modules("smartcrop.exports.manifest")
    if missing:
        return not_yet_measurable(
            args.results_dir,
            NAME,
            "seconds to write the nightly manifest of 100,000 renditions",
            f"project <= {TARGET_RATIO:g}x the COPY baseline",
            missing,
        )
    images = SMOKE_IMAGES if args.smoke else IMAGES
    project, baseline = Stats(), Stats()
    rss = {"project": Stats(), "baseline": Stats()}
    rows: dict[str, set[int]] = {"project": set(), "baseline": set()}
    with (
        tempfile.TemporaryDirectory(prefix="smartcrop-bench-export-") as folder,
        BenchDatabase() as db,
    ):
        tmp = Path(folder)
        seeded = db.fresh()
        ((user_id, _),) = create_users(seeded, "operator", 1, "finisher")
        seed_work_items(
            seeded,
            programmes=images // 2,
            images_per_programme=2,
            seed=args.seed,
            statuses=((3, 1.0),),
            user_id=user_id,
        )
        renditions = seed_renditions(seeded, user_id)
        log(f"export: {images:,} completed images, {renditions:,} renditions seeded")
        template = _database_name(seeded)
        for run_no in range(1, args.runs + 1):
            url = db.fresh(template)
            config = write_config(tmp / f"run{run_no}", url)
            child = run_child(MODULE, "project", {"db_url": url, "config": str(config)})
            db.drop(url)
            project.add(child.result["seconds"])
            rss["project"].add(child.peak_rss_mb)
            rows["project"].add(child.result["rows"])
            log(f"export run {run_no}: project {child.result['seconds']:.2f} s")

            url = db.fresh(template)
            child = run_child(
                MODULE,
                "baseline",
                {"db_url": url, "out": str(tmp / f"baseline{run_no}.csv")},
            )
            db.drop(url)
            baseline.add(child.result["seconds"])
            rss["baseline"].add(child.peak_rss_mb)
            rows["baseline"].add(child.result["rows"])
            log(f"export run {run_no}: baseline {child.result['seconds']:.2f} s")

        ratio = project.median / baseline.median
        targets = [Target("project / COPY baseline", ratio, TARGET_RATIO, "max", "x")]
        met = all_met(targets)
        profile_path = None
        want = args.profile == "always" or (args.profile == "auto" and met is False)
        if want and profiler_available() and not args.smoke:
            profile_path = args.results_dir / "profiles" / f"{NAME}.txt"
            url = db.fresh(template)
            config = write_config(tmp / "profile", url)
            log("export: profiling one more project run (pyinstrument)")
            run_child(
                MODULE,
                "project",
                {"db_url": url, "config": str(config), "profile": str(profile_path)},
            )
            db.drop(url)
        machine = machine_info(db.server_version())

    notes = [NOISE]
    if rows["project"] != rows["baseline"]:
        notes.append(
            f"Row counts differ: project {sorted(rows['project'])}, baseline "
            f"{sorted(rows['baseline'])}."
        )
    if met is False and FINDINGS and not args.smoke:
        notes.append(FINDINGS)
    if args.smoke:
        notes.append("Smoke run: tiny data, one run; the numbers mean nothing.")
    payload: dict[str, Any] = {
        "metric": (
            f"seconds to write the nightly manifest of {renditions:,} renditions to a "
            "local file (median of runs)"
        ),
        "unit": "s",
        "seed": args.seed,
        "smoke": args.smoke,
        "renditions": renditions,
        "project": {
            "name": "smartcrop.exports.manifest.export_manifest, local target only",
            **project.as_dict(),
            "rows": sorted(rows["project"]),
            "peak_rss_mb": rss["project"].as_dict(1),
        },
        "baseline": {
            "name": "COPY (the same select) TO STDOUT (FORMAT CSV) into a file",
            **baseline.as_dict(),
            "rows": sorted(rows["baseline"]),
            "peak_rss_mb": rss["baseline"].as_dict(1),
        },
        "ratio": round(ratio, 3),
        "target": f"project <= {TARGET_RATIO:g}x the COPY baseline",
        "targets": [t.as_dict() for t in targets],
        "met": met,
        "runs": args.runs,
        "profile": (
            str(profile_path.relative_to(args.results_dir)) if profile_path else None
        ),
        "machine": machine,
        "note": " ".join(notes),
        "project_headline": fmt(project.median, "s"),
        "baseline_headline": fmt(baseline.median, "s"),
    }
    table = [
        ("variant", "median", "min", "peak RSS", "rows"),
        (
            "project: export_manifest (local)",
            fmt(project.median, "s"),
            fmt(project.min, "s"),
            fmt(rss["project"].max, "MB"),
            ", ".join(str(r) for r in sorted(rows["project"])),
        ),
        (
            "baseline: COPY ... TO STDOUT",
            fmt(baseline.median, "s"),
            fmt(baseline.min, "s"),
            fmt(rss["baseline"].max, "MB"),
            ", ".join(str(r) for r in sorted(rows["baseline"])),
        ),
    ]
    payload = write_result(args.results_dir, NAME, payload, table)
    print(summary_line(payload))
    return payload


def main(argv: list[str] | None = None) -> int:
    return script_main(run, TASKS, argv)


if __name__ == "__main__":
    sys.exit(main())
