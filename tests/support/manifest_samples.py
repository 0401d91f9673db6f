"""The sample manifests (samples/manifests), what ingesting them must leave, and a
quick SQL query for any test that reads the database back."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import psycopg

from smartcrop.db import libpq_url

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "manifests"
EXPECTED = json.loads((SAMPLES / "expected.json").read_text())


def copy_samples(dest: Path, names: list[str] | None = None) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    names = names or [*EXPECTED["files"], *EXPECTED["failed"]]
    return [Path(shutil.copy2(SAMPLES / name, dest / name)) for name in names]


def query(db_url: str, sql: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(libpq_url(db_url)) as conn:
        return conn.execute(sql, params).fetchall()


def upload_rows(db_url: str) -> dict[str, tuple]:
    """filename -> (status, provider, items, rejected, duplicates, error)."""
    rows = query(
        db_url,
        "SELECT filename, status, providername, ingesteditems, rejectedrows,"
        " duplicates, error FROM smartcrop_upload_files ORDER BY id",
    )
    return {r[0]: r[1:] for r in rows}


def work_item_count(db_url: str) -> int:
    return query(db_url, "SELECT count(*) FROM smartcrop_programimage")[0][0]


def assert_matches_expected(db_url: str) -> None:
    """The database holds exactly what samples/manifests/expected.json says."""
    recorded = upload_rows(db_url)
    for name, want in EXPECTED["files"].items():
        status, provider, items, rejected, duplicates, _ = recorded[name]
        assert (status, provider, items, rejected, duplicates) == (
            "ingested",
            want["provider"],
            want["ingested_items"],
            want["rejected_rows"],
            want["duplicates"],
        ), name
    for name, kind in EXPECTED["failed"].items():
        status, *_, error = recorded[name]
        assert status == "failed", name
        assert error.startswith(kind), (name, error)
    assert work_item_count(db_url) == EXPECTED["total_new_items"]
    states = query(
        db_url, "SELECT DISTINCT status, currentstate FROM smartcrop_programimage"
    )
    assert states == [(1, 0)]
