"""`smartcrop ingest` reproduces samples/manifests/expected.json through the job."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml
from dagster import DagsterInstance
from dagster._core.instance.ref import InstanceRef

from tests.support.manifest_samples import (
    EXPECTED,
    assert_matches_expected,
    copy_samples,
    query,
    work_item_count,
)

SMARTCROP = str(Path(sys.executable).parent / "smartcrop")


def _ingest(tmp_path: Path, db_url: str, *paths: Path) -> tuple[int, dict, str]:
    config = tmp_path / "config.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "processing_middleware": {
                    "local_filesystem": {
                        "root_path": str(tmp_path / "staging"),
                        "quarantine_path": str(tmp_path / "quarantine"),
                        "work_dir": str(tmp_path / "work"),
                    }
                }
            }
        )
    )
    result = subprocess.run(
        [SMARTCROP, "ingest", *map(str, paths)],
        env={
            **os.environ,
            "DATABASE__URL": db_url,
            "SMARTCROP_CONFIG": str(config),
            "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    start = result.stdout.index("{")
    return result.returncode, json.loads(result.stdout[start:]), result.stderr


def test_samples_in_expected_order_give_the_expected_outcome(
    db_url: str, tmp_path: Path
) -> None:
    files = copy_samples(tmp_path / "drop")
    code, summary, _ = _ingest(tmp_path, db_url, *files)
    assert code == 1  # three files fail on purpose
    for name, want in EXPECTED["files"].items():
        got = summary["files"][name]
        assert got["status"] == "ingested", (name, got)
        assert got["provider"] == want["provider"]
        assert got["ingested_items"] == want["ingested_items"], name
        assert got["rejected_rows"] == want["rejected_rows"], name
        assert got["duplicates"] == want["duplicates"], name
    for name, kind in EXPECTED["failed"].items():
        assert summary["files"][name]["status"] == "failed"
        assert summary["files"][name]["error"].startswith(kind)
    assert summary["total_new_items"] == EXPECTED["total_new_items"]
    assert_matches_expected(db_url)
    # The runs are on the Dagster instance the UI reads, one per file.
    with DagsterInstance.from_ref(
        InstanceRef.from_dir(str(tmp_path / "dagster_home"))
    ) as instance:
        runs = instance.get_runs()
        assert sorted(r.tags["smartcrop/file"] for r in runs) == sorted(
            f.name for f in files
        )
    # Failed files are quarantined (copies: the caller's originals stay put).
    assert sorted(p.name for p in (tmp_path / "quarantine").iterdir()) == sorted(
        EXPECTED["failed"]
    )
    assert all(f.exists() for f in files)
    # Nothing of a failed file was landed.
    landed = query(
        db_url,
        "SELECT count(*) FROM smartcrop_inputfiles i JOIN smartcrop_upload_files f"
        " ON f.id = i.uploadfileid WHERE f.status = 'failed'",
    )
    assert landed == [(0,)]


def test_the_same_folder_twice_adds_nothing(db_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    copy_samples(folder)
    _, first, _ = _ingest(tmp_path, db_url, folder)
    assert first["total_new_items"] == EXPECTED["total_new_items"]
    _, second, _ = _ingest(tmp_path, db_url, folder)
    assert second["total_new_items"] == 0
    for name in EXPECTED["files"]:
        assert second["files"][name]["status"] == "skipped"
    assert work_item_count(db_url) == EXPECTED["total_new_items"]
    # A renamed copy is the same file: skipped as well.
    renamed = tmp_path / "again" / "NBCU_20261121.xlsx"
    renamed.parent.mkdir()
    renamed.write_bytes((folder / "NBCU_20261120.xlsx").read_bytes())
    _, third, _ = _ingest(tmp_path, db_url, renamed)
    assert third["files"]["NBCU_20261121.xlsx"]["status"] == "skipped"
    assert third["total_new_items"] == 0
    assert work_item_count(db_url) == EXPECTED["total_new_items"]


def test_non_xlsx_files_are_left_alone(db_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "NBCU_notes.txt").write_text("not a manifest")
    (folder / "NBCU_20261120.csv").write_text("Program ID,Program Title,Image URL\n")
    code, summary, _ = _ingest(tmp_path, db_url, folder)
    assert code == 0
    assert summary == {"files": {}, "total_new_items": 0}
