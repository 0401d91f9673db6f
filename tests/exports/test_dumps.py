"""Dump snapshots: four CSVs of the last N days, sent to two SFTP ports."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from smartcrop.db import get_engine
from smartcrop.exports import dumps
from smartcrop.transfer.retry import RetryPolicy
from tests.support.export_setup import (
    add_image,
    add_user,
    base_config,
    execute,
    ftp_sections,
    merge,
    settings_from,
    utc,
)
from tests.support.sftp_server import SftpTestServer

FAST = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.05)
NOW = utc(2026, 11, 26, 2, 30, 0)
STAMP = "20261126_023000"
NAMES = {
    "program": f"SmartCrop_Program_{STAMP}.csv",
    "aspect": f"SmartCrop_Aspect_{STAMP}.csv",
    "summary": f"SmartCrop_Summary_{STAMP}.csv",
    "audit": f"SmartCrop_Audit_{STAMP}.csv",
}


@pytest.fixture
def audit_server(tmp_path: Path) -> Iterator[SftpTestServer]:
    """A second SFTP server: the audit port, distinct from the output port."""
    server = SftpTestServer(root=tmp_path / "audit-root").start()
    yield server
    server.shutdown()


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def recent_and_old(db_url: str) -> tuple[int, int]:
    """One image from today, one from 40 days ago, with audit rows of both ages."""
    now = datetime.now(UTC)
    user = add_user(db_url, "Olive Operator")
    fresh = add_image(
        db_url, program_id="SH1", cropped_by=user, completed_by=user,
        completed_at=now, ratios=("16x9", "1x1"),
    )  # fmt: skip
    old = add_image(
        db_url, program_id="SH2", ratios=("4x3",), created_at=now - timedelta(days=40)
    )
    for image, program, when in (
        (fresh, "SH1", now),
        (old, "SH2", now - timedelta(40)),
    ):
        execute(
            db_url,
            "INSERT INTO smartcrop_programimage_audit (programimageid, link_object_id,"
            " userid, action, fromstatus, fromstate, tostatus, tostate, createdat)"
            " VALUES (%s, %s, %s, 'finish', 1, 1, 3, 0, %s)",
            (image, program, user, when),
        )
    return fresh, old


def test_four_files_of_the_last_days_reach_the_output_and_audit_folders(
    db_url: str, tmp_path: Path, sftp_server: SftpTestServer, audit_server
) -> None:
    fresh, old = recent_and_old(db_url)
    settings = settings_from(
        merge(base_config(tmp_path, db_url), ftp_sections(sftp_server, audit_server))
    )

    result = dumps.dump_snapshots(
        settings, get_engine(db_url), days=7, now=NOW, retry=FAST
    )

    assert result.response() == {"status": "success", "files": list(NAMES.values())}
    outbound = sftp_server.path("/outbound")
    assert sorted(p.name for p in outbound.iterdir()) == sorted(
        [NAMES["program"], NAMES["aspect"], NAMES["summary"]]
    )
    # The audit file went to the audit port's server, into its audit folder.
    assert [p.name for p in audit_server.path("/audit").iterdir()] == [NAMES["audit"]]
    assert not sftp_server.path("/audit").exists() or not any(
        sftp_server.path("/audit").iterdir()
    )
    # Removed locally once sent.
    assert list((tmp_path / "dumps").iterdir()) == []

    program = read_csv(outbound / NAMES["program"])
    assert [int(r["imageid"]) for r in program] == [fresh]
    assert program[0]["programid"] == "SH1"
    assert program[0]["completedbyname"] == "Olive Operator"
    aspect = read_csv(outbound / NAMES["aspect"])
    assert sorted(r["aspectratio"] for r in aspect) == ["16x9", "1x1"]
    assert {r["imageid"] for r in aspect} == {str(fresh)}
    summary = read_csv(outbound / NAMES["summary"])
    today = datetime.now(UTC).date().isoformat()
    assert [(r["reportdate"], r["providername"], r["ingested"]) for r in summary] == [
        (today, "NBCU", "1")
    ]
    audit = read_csv(audit_server.path(f"/audit/{NAMES['audit']}"))
    assert [(r["imageid"], r["action"], r["username"]) for r in audit] == [
        (str(fresh), "finish", "Olive Operator")
    ]
    assert audit[0]["createdat"].endswith("+00")  # UTC whatever the server's zone


def test_a_longer_range_reaches_older_rows(db_url: str, tmp_path: Path) -> None:
    fresh, old = recent_and_old(db_url)
    settings = settings_from(base_config(tmp_path, db_url))

    result = dumps.dump_snapshots(settings, get_engine(db_url), days=30, now=NOW)
    assert result.status == "success"
    program = read_csv(tmp_path / "dumps" / NAMES["program"])
    assert [int(r["imageid"]) for r in program] == [fresh]  # 40 days is outside 30

    execute(
        db_url,
        "UPDATE smartcrop_programimage SET updatedat = now() - interval '29 days'"
        " WHERE id = %s",
        (old,),
    )
    later = NOW + timedelta(seconds=1)
    dumps.dump_snapshots(settings, get_engine(db_url), days=30, now=later)
    name = f"SmartCrop_Program_{later:%Y%m%d_%H%M%S}.csv"
    program = read_csv(tmp_path / "dumps" / name)
    assert sorted(int(r["imageid"]) for r in program) == sorted([fresh, old])


def test_without_an_sftp_host_the_files_are_kept_locally(
    db_url: str, tmp_path: Path
) -> None:
    settings = settings_from(
        merge(
            base_config(tmp_path, db_url),
            {"smartcrop_dumpdata": {"filenames": {"program": "Prog"}, "date_range": 3}},
        )
    )
    result = dumps.dump_snapshots(settings, get_engine(db_url), now=NOW)

    assert result.status == "success" and result.days == 3
    assert sorted(p.name for p in (tmp_path / "dumps").iterdir()) == sorted(
        [f"Prog_{STAMP}.csv", NAMES["aspect"], NAMES["summary"], NAMES["audit"]]
    )
    header = (tmp_path / "dumps" / f"Prog_{STAMP}.csv").read_text().splitlines()
    assert header[0].startswith("imageid,programid,providername,")
    assert len(header) == 1  # no rows in an empty database: the header only


def test_a_failed_upload_keeps_that_file_locally(
    db_url: str, tmp_path: Path, sftp_server: SftpTestServer, audit_server
) -> None:
    recent_and_old(db_url)
    settings = settings_from(
        merge(base_config(tmp_path, db_url), ftp_sections(sftp_server, audit_server))
    )
    audit_server.stop()

    result = dumps.dump_snapshots(
        settings, get_engine(db_url), days=1, now=NOW, retry=FAST
    )

    assert result.response() == {"status": "failed"}
    assert result.error and NAMES["audit"] in result.error
    # The three sent files are gone locally; the audit file waits to be sent.
    assert [p.name for p in (tmp_path / "dumps").iterdir()] == [NAMES["audit"]]
    assert len(list(sftp_server.path("/outbound").iterdir())) == 3


@pytest.mark.parametrize("days", [0, 31, -1])
def test_date_range_is_1_to_30(db_url: str, tmp_path: Path, days: int) -> None:
    settings = settings_from(base_config(tmp_path, db_url))
    with pytest.raises(ValueError, match="1 to 30"):
        dumps.dump_snapshots(settings, get_engine(db_url), days=days)
    assert not (tmp_path / "dumps").exists() or not any((tmp_path / "dumps").iterdir())


def test_uploads_go_through_the_configured_proxy(
    db_url: str, tmp_path: Path, sftp_server: SftpTestServer, connect_proxy
) -> None:
    sections = ftp_sections(sftp_server)
    sections["smartcrop_ftp_config"]["proxy"] = {
        "host": connect_proxy.host,
        "port": connect_proxy.port,
    }
    settings = settings_from(merge(base_config(tmp_path, db_url), sections))

    result = dumps.dump_snapshots(
        settings, get_engine(db_url), days=1, now=NOW, retry=FAST
    )

    assert result.status == "success"
    target = f"{sftp_server.host}:{sftp_server.port}"
    assert connect_proxy.tunnels == [target] * 4  # one connection per file
    assert len(list(sftp_server.path("/outbound").iterdir())) == 3
