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
filter (none, provider, user, 7 days, all together), a middle and the last page
(of no filter, of 7 days, and of 7 days with the status filter, beyond the contract);
the XLSX download of 7 days (cost per row); and the nightly manifest of 1,000 new
images. The growth of each operation is its p95 on the large database over its p95
on the small one; the small database is the baseline measured in the same run.

    python -m bench.scale [--smoke] [--sizes 100000,3000000] [--samples 20]

``make bench-scale`` runs the full sizes (about 20 minutes here); ``make test`` runs
``--smoke`` (tiny sizes, a few samples: it checks the script, measures nothing).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.harness.child import script_main
from bench.harness.cli import log, parse_args
from bench.harness.config import write_config
from bench.harness.database import BenchDatabase
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
from bench.scale import (
    BIG_DOWNLOAD_FIRST_MIB_S,
    BIG_DOWNLOAD_ROWS,
    BIG_DOWNLOAD_RSS_MB,
    CLAIM_SAMPLES_FACTOR,
    DEFAULT_SAMPLES,
    FLAT_GROWTH,
    FLAT_P95_MS,
    FULL_SIZES,
    LATER_PAGE_MS,
    MANIFEST_IMAGES,
    NAME,
    OPERATORS,
    REVIEWERS,
    SMOKE_SIZES,
    WORKERS,
)
from bench.scale.data import fill
from bench.scale.download import big_download
from bench.scale.operations import Op, measure

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
