"""Provider files written for the landing tests, and one file ingested through the
domain's three steps (record, land, derive) without Dagster."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from smartcrop.ingestion import landing, work_items
from smartcrop.ingestion.manifests import DEFAULT_PROVIDER_FILE_TYPE
from tests.support.workbooks import PRESS_HEADERS, write_xlsx


def press(path: Path, rows: list[list[Any]]) -> Path:
    return write_xlsx(path, [PRESS_HEADERS, *rows])


def row(pid: str, n: int, **extra: Any) -> list[Any]:
    base = {
        "type": "Poster",
        "lang": "en",
        "width": 1600,
        "height": 900,
    }
    base.update(extra)
    return [
        pid,
        f"Title {pid}",
        None,
        1,
        n,
        f"https://press.example.com/{pid}/{n}.jpg",
        base["type"],
        base["lang"],
        base["width"],
        base["height"],
        None,
        None,
    ]


def record(conn: psycopg.Connection, path: Path, key: str | None = None) -> Any:
    """The file recorded as ``smartcrop ingest`` records a local file (its name the
    partition key unless ``key`` is given)."""
    return landing.record_file(
        conn,
        partition_key=key or path.name,
        path=path,
        filename=path.name,
        source="cli",
        source_path=str(path),
        source_modified=None,
    )


def land(conn: psycopg.Connection, path: Path, key: str | None = None) -> Any:
    """The file recorded and its rows landed, in the default layout; no work items
    derived yet."""
    recorded = record(conn, path, key)
    landing.land_rows(conn, recorded, path, DEFAULT_PROVIDER_FILE_TYPE)
    return recorded


def ingest(conn: psycopg.Connection, path: Path, key: str | None = None):
    recorded_file = record(conn, path, key)
    if recorded_file.status == "skipped":
        return recorded_file, None
    landing.land_rows(conn, recorded_file, path, DEFAULT_PROVIDER_FILE_TYPE)
    return recorded_file, work_items.derive_work_items(conn, recorded_file)
