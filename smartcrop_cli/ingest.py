"""``smartcrop ingest`` and the sample manifests of the first ``smartcrop up``.

Both run the ``ingest_manifest`` job in this process, on the local Dagster instance,
so the runs show in the UI: a script, not the API, so no run goes through the queue.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from smartcrop.settings import Settings
from smartcrop_cli.dagster_home import dagster_env
from smartcrop_cli.startup import load_settings, ready_database


def run_ingest(
    settings: Settings,
    url: str,
    paths: list[Path],
    console_log_level: str | None = None,
) -> dict[str, Any]:
    """Ingest through the Dagster job, in this process, on the local instance."""
    os.environ["DAGSTER_HOME"] = dagster_env(settings, url)["DAGSTER_HOME"]
    from dagster import DagsterInstance  # noqa: PLC0415

    from pipelines.runner import ingest_paths  # noqa: PLC0415

    with DagsterInstance.get() as instance:
        return ingest_paths(
            paths,
            instance=instance,
            database_url=url,
            config_path=os.environ.get("SMARTCROP_CONFIG"),
            console_log_level=console_log_level,
        )


def cmd_ingest(args: argparse.Namespace) -> int:
    settings = load_settings()
    url = ready_database(settings)
    summary = run_ingest(settings, url, [Path(p) for p in args.paths])
    print(json.dumps(summary, indent=2))
    failed = [n for n, f in summary["files"].items() if f["status"] == "failed"]
    return 1 if failed else 0


def first_start_ingest(settings: Settings, url: str, samples: Path) -> None:
    """On the first start (no file ever recorded), ingest the sample manifests."""
    from smartcrop.db import bulk_connection, get_engine  # noqa: PLC0415

    if not samples.is_dir():
        return
    with bulk_connection(get_engine(url)) as conn:
        seen = conn.execute("SELECT count(*) FROM smartcrop_upload_files").fetchone()
    if seen and seen[0]:
        return
    # The offline demo beside the samples: its images are served by the API
    # (/demo-images/), so their crops are suggested on demand once it is up.
    demo = samples.parent / "demo"
    # The samples include broken files on purpose (they show quarantine and the
    # reasons in the UI): one line each here, not Dagster's stack traces.
    summary = run_ingest(
        settings,
        url,
        [samples, *([demo] if demo.is_dir() else [])],
        console_log_level="CRITICAL",
    )
    print(
        f"first start: ingested {len(summary['files'])} sample manifests from "
        f"{samples}, {summary['total_new_items']} work items",
        flush=True,
    )
    for name, outcome in summary["files"].items():
        if outcome["status"] == "failed":
            print(f"  {name}: failed, {outcome['error']}", flush=True)
