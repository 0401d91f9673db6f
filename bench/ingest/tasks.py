"""Child tasks of the ingest benchmark: each times only its work."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from bench.harness.manifest import MANIFEST_HEADERS, TITLE_ROWS
from bench.harness.profiling import maybe_profile


def task_project(p: dict[str, Any]) -> dict[str, Any]:
    os.environ["DAGSTER_HOME"] = p["dagster_home"]
    os.environ["SMARTCROP_CONFIG"] = p["config"]
    from dagster import DagsterInstance  # noqa: PLC0415

    from pipelines.runner import ingest_paths  # noqa: PLC0415

    profile = Path(p["profile"]) if p.get("profile") else None
    with DagsterInstance.get() as instance:
        with maybe_profile(profile):
            start = time.perf_counter()
            summary = ingest_paths(
                [Path(p["file"])],
                instance=instance,
                database_url=p["db_url"],
                config_path=p["config"],
            )
            seconds = time.perf_counter() - start
        steps = _step_seconds(instance)
    (outcome,) = summary["files"].values()
    if outcome["status"] != "ingested":
        raise RuntimeError(f"the project's ingestion did not succeed: {outcome}")
    return {"seconds": seconds, "outcome": outcome, "steps": steps}


def _step_seconds(instance: Any) -> dict[str, float]:
    """Each step's time in the instance's latest run (its event log)."""
    from dagster import DagsterEventType as E  # noqa: PLC0415, N817

    records = instance.get_run_records(limit=1)
    if not records:
        return {}
    begun: dict[str, float] = {}
    steps: dict[str, float] = {}
    for entry in instance.all_logs(records[0].dagster_run.run_id):
        event = entry.dagster_event
        if event is None or not event.step_key:
            continue
        if event.event_type == E.STEP_START:
            begun[event.step_key] = entry.timestamp
        elif event.event_type in (E.STEP_SUCCESS, E.STEP_FAILURE):
            start = begun.get(event.step_key, entry.timestamp)
            steps[event.step_key] = round(entry.timestamp - start, 4)
    return steps


def task_floor(p: dict[str, Any]) -> dict[str, Any]:
    import psycopg  # noqa: PLC0415
    from python_calamine import CalamineWorkbook  # noqa: PLC0415

    from smartcrop.db import libpq_url  # noqa: PLC0415

    columns = ", ".join(f"c{i}" for i in range(len(MANIFEST_HEADERS)))
    with psycopg.connect(libpq_url(p["db_url"]), autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE bare_rows ("
            + ", ".join(f"c{i} text" for i in range(len(MANIFEST_HEADERS)))
            + ")"
        )
        start = time.perf_counter()
        rows = CalamineWorkbook.from_path(p["file"]).get_sheet_by_index(0).to_python()
        body = rows[TITLE_ROWS + 1 :]
        with (
            conn.transaction(),
            conn.cursor() as cursor,
            cursor.copy(
                f"COPY bare_rows ({columns}) FROM STDIN (FORMAT BINARY)"  # noqa: S608
            ) as copy,
        ):
            copy.set_types(["text"] * len(MANIFEST_HEADERS))
            for row in body:
                copy.write_row([None if v == "" else str(v) for v in row])
        seconds = time.perf_counter() - start
        count = conn.execute("SELECT count(*) FROM bare_rows").fetchone()
    return {"seconds": seconds, "rows": count[0] if count else 0}


def task_legacy(p: dict[str, Any]) -> dict[str, Any]:
    import pandas as pd  # noqa: PLC0415
    from sqlalchemy import create_engine  # noqa: PLC0415

    engine = create_engine(p["db_url"])  # postgresql+psycopg://
    try:
        start = time.perf_counter()
        # With a limit only that many rows are read (openpyxl stops there).
        frame = pd.read_excel(
            p["file"], engine="openpyxl", header=TITLE_ROWS, nrows=p.get("limit")
        )
        read = time.perf_counter() - start
        frame.to_sql("legacy_rows", engine, if_exists="append", index=False)
        seconds = time.perf_counter() - start
    finally:
        engine.dispose()
    return {"seconds": seconds, "read_seconds": read, "rows": len(frame)}


def task_phases(p: dict[str, Any]) -> dict[str, Any]:
    """The project's domain steps one by one, without Dagster (not a measured run:
    it says where the project's time goes)."""
    import psycopg  # noqa: PLC0415
    from python_calamine import CalamineWorkbook  # noqa: PLC0415

    from smartcrop.db import libpq_url  # noqa: PLC0415
    from smartcrop.ingestion import landing, work_items  # noqa: PLC0415
    from smartcrop.ingestion.manifests import (  # noqa: PLC0415
        DEFAULT_PROVIDER_FILE_TYPE,
        open_manifest,
        require_provider,
    )
    from smartcrop.ingestion.manifests.preflight import check_workbook  # noqa: PLC0415

    path = Path(p["file"])
    groups = {k: dict(v) for k, v in DEFAULT_PROVIDER_FILE_TYPE.items()}
    phases: dict[str, float] = {}

    def timed(name: str, fn: Any) -> Any:
        start = time.perf_counter()
        value = fn()
        phases[name] = round(time.perf_counter() - start, 4)
        return value

    timed("checksum", lambda: landing.file_checksum(path))
    timed("preflight_scan", lambda: check_workbook(path))
    timed(
        "calamine_load_sheet",
        lambda: CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0),
    )
    match = require_provider(path.name, groups)
    manifest = timed("open_manifest", lambda: open_manifest(path, match))
    # What land_rows reads: the rows as COPY tuples (rows() wraps each in an object).
    timed("parse_rows", lambda: sum(1 for _ in manifest.records()))
    with psycopg.connect(libpq_url(p["db_url"]), autocommit=True) as conn:
        record = timed(
            "record_file",
            lambda: landing.record_file(
                conn,
                partition_key="bench-phases",
                path=path,
                filename=path.name,
                source="cli",
                source_path=str(path),
                source_modified=None,
            ),
        )
        timed("land_rows", lambda: landing.land_rows(conn, record, path, groups))
        if p.get("analyze"):
            # Statistics for the rows just landed, so the planner sees 100,000 rows
            # where it would guess 1 (the project's repair path does this itself).
            timed(
                "analyze_inputfiles",
                lambda: conn.execute("ANALYZE smartcrop_inputfiles"),
            )
        timed("derive_work_items", lambda: work_items.derive_work_items(conn, record))
    phases["copy_only_estimate"] = round(
        phases["land_rows"] - phases["open_manifest"] - phases["parse_rows"], 4
    )
    return phases


TASKS = {
    "project": task_project,
    "floor": task_floor,
    "legacy": task_legacy,
    "phases": task_phases,
}
