"""Landing and deriving against the real database: dedupe, atomicity, re-sends."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import psycopg
import pytest

from smartcrop.db import libpq_url
from smartcrop.ingestion import landing
from smartcrop.ingestion.manifests import (
    DEFAULT_PROVIDER_FILE_TYPE,
    ManifestError,
    ParsedRow,
)
from tests.support.landing import ingest as _ingest
from tests.support.landing import press as _press
from tests.support.landing import record as _record
from tests.support.landing import row as _row
from tests.support.manifest_samples import query


def test_parallel_files_sharing_rows_add_each_item_once(
    db_url: str, tmp_path: Path
) -> None:
    shared = [_row("SH100", n) for n in range(50)]
    a = _press(tmp_path / "NBCU_a.xlsx", shared + [_row("SH200", n) for n in range(30)])
    b = _press(tmp_path / "WBD_b.xlsx", shared + [_row("SH300", n) for n in range(20)])
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def work(path: Path) -> None:
        with psycopg.connect(libpq_url(db_url), autocommit=True) as own:
            barrier.wait()
            results[path.name] = _ingest(own, path)[1]

    threads = [threading.Thread(target=work, args=(p,)) for p in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    items = query(db_url, "SELECT count(*) FROM smartcrop_programimage")[0][0]
    assert items == 50 + 30 + 20
    made = sum(r.ingested_items for r in results.values())  # type: ignore[attr-defined]
    dups = sum(r.duplicates for r in results.values())  # type: ignore[attr-defined]
    assert (made, dups) == (100, 50)  # the shared rows went to exactly one file


def test_unknown_lookup_values_are_kept_as_text_with_no_id(
    conn: psycopg.Connection, tmp_path: Path
) -> None:
    path = _press(
        tmp_path / "NBCU_x.xlsx",
        [
            _row("SH1", 1, type="Gallery", lang="Klingon"),
            _row("SH1", 2, type="key art"),
        ],
    )
    _ingest(conn, path)
    rows = conn.execute(
        "SELECT imagetype, imagetypeid, language, languageid, rights, status,"
        " currentstate FROM smartcrop_programimage ORDER BY imageurl"
    ).fetchall()
    assert rows[0] == ("Gallery", None, "Klingon", None, "Provider Supplied", 1, 0)
    assert rows[1][:2] == ("key art", 1)


def test_landing_is_all_or_nothing(conn: psycopg.Connection, tmp_path: Path) -> None:
    path = _press(tmp_path / "NBCU_y.xlsx", [_row("SH1", 1)])
    record = _record(conn, path, "k")

    def rows_then_crash():
        good = ParsedRow(
            1,
            "NBCU",
            "SH1",
            "t",
            None,
            None,
            None,
            "https://x/1.jpg",
            None,
            None,
            None,
            None,
            None,
            None,
            "Provider Supplied",
            "",
            None,
            None,
        )
        # What Manifest.records() yields: ParsedRow's values in field order.
        yield dataclasses.astuple(good)
        yield dataclasses.astuple(good)
        raise OSError("disk vanished mid-file")

    with pytest.raises(OSError), conn.transaction():
        landing._copy_rows(conn, record.id, rows_then_crash())
    assert conn.execute("SELECT count(*) FROM smartcrop_inputfiles").fetchone() == (0,)


def test_a_failed_file_fixed_and_resent_is_ingested(
    conn: psycopg.Connection, tmp_path: Path
) -> None:
    broken = tmp_path / "NBCU_z.xlsx"
    broken.write_bytes(b"PK\x03\x04 this is not a workbook")
    record = _record(conn, broken, "first")
    with pytest.raises(ManifestError):
        landing.land_rows(conn, record, broken, DEFAULT_PROVIDER_FILE_TYPE)
    landing.mark_failed(conn, record.id, "not a readable workbook")
    (tmp_path / "fixed").mkdir()
    fixed = _press(tmp_path / "fixed" / "NBCU_z.xlsx", [_row("SH9", 1)])
    _, derived = _ingest(conn, fixed, key="second")
    assert derived is not None and derived.ingested_items == 1
    statuses = conn.execute(
        "SELECT partitionkey, status FROM smartcrop_upload_files ORDER BY id"
    ).fetchall()
    assert statuses == [("first", "failed"), ("second", "ingested")]


def test_the_same_content_from_two_sources_is_ingested_once(
    conn: psycopg.Connection, tmp_path: Path
) -> None:
    path = _press(tmp_path / "NBCU_q.xlsx", [_row("SH5", 1), _row("SH5", 2)])
    first, made = _ingest(conn, path, key="from-s3")
    second, again = _ingest(conn, path, key="from-sftp")
    assert made is not None and made.ingested_items == 2
    assert second.status == "skipped" and again is None
    assert second.duplicate_of == "from-s3"
    assert conn.execute("SELECT count(*) FROM smartcrop_programimage").fetchone() == (
        2,
    )


# --- links from landed rows to work items ---------------------------------------
#
# land_rows gives each accepted row its work item's id as it lands, so that no landed
# row is written twice; derive_work_items repairs the rows where that guess cannot
# hold. Either way the result must be what linking by the (ProgramId, image URL) pair
# gives, which the oracle below works out from scratch.
