"""Reading a manifest: files that are not workbooks, truncated or missing, odd cells, a
stray cell far away; each refused with its reason, never fatal."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from smartcrop.ingestion.manifests import NOT_READABLE, open_manifest
from tests.ingestion.manifests.reading import NBCU, read_failure, read_rows
from tests.support.workbooks import PRESS_HEADERS, press_row, write_xlsx


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"Program ID,Program Title,Image URL\nSH1,T,https://x/a\n",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600),  # an .xls / encrypted file
    ],
)
def test_not_a_workbook(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "NBCU_bad.xlsx"
    path.write_bytes(content)
    error = read_failure(path)
    assert error.kind == NOT_READABLE == "not a readable workbook"
    assert "NBCU_bad.xlsx" in error.message


def test_a_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "zip.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert read_failure(path).kind == NOT_READABLE


def test_a_truncated_workbook(tmp_path: Path) -> None:
    whole = write_xlsx(tmp_path / "whole.xlsx", [PRESS_HEADERS, press_row("SH1")])
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    assert read_failure(cut).kind == NOT_READABLE


def test_a_missing_file_is_not_blamed_on_the_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        open_manifest(tmp_path / "gone.xlsx", NBCU)


def test_odd_cell_types_do_not_stop_a_file(tmp_path: Path) -> None:
    import datetime as dt

    path = write_xlsx(
        tmp_path / "odd.xlsx",
        [
            ["Program ID", "Program Title", "Image URL", "Width", "Season"],
            [dt.datetime(2024, 1, 2), True, "https://x/a", 1600, dt.time(1, 30)],
            ["SH2", "T", "https://x/b", 1e12, 1],  # 1e12 days as a duration: overflow
            ["SH3", "T", "https://x/c", dt.date(2024, 5, 6), 2],
            ["SH4", "T", "https://x/d", 1920, 3],
        ],
        number_formats={"D3": "[h]:mm:ss"},
    )
    rows = read_rows(path)
    assert [row.row_number for row in rows] == [2, 3, 4, 5]
    assert rows[0].program_id.startswith("2024-01-02")
    assert (rows[0].program_title, rows[0].season, rows[0].reject_reason) == (
        "TRUE",
        "01:30:00",
        None,
    )
    assert rows[1].reject_reason == "row has a cell that cannot be read"
    assert rows[2].reject_reason == "width is not a positive whole number"
    assert (rows[3].program_id, rows[3].width, rows[3].reject_reason) == (
        "SH4",
        1920,
        None,
    )


_ABSURD = """
import sys
from openpyxl import Workbook
from smartcrop.ingestion.manifests import ManifestError, detect_provider, open_manifest
book = Workbook()
sheet = book.active
sheet.append(["Program ID", "Program Title", "Image URL"])
sheet.append(["SH1", "T", "https://x/a"])
sheet["XFD1048576"] = "stray"
book.save(sys.argv[1])
try:
    match = detect_provider("NBCU_a.xlsx", {"group_a": {"NBCU_": "N"}})
    open_manifest(sys.argv[1], match)
except ManifestError as error:
    print(error.kind)
    print(error.message)
"""


def test_a_stray_cell_far_away_is_refused_not_fatal(tmp_path: Path) -> None:
    # In a child process: without the guard, calamine aborts the whole interpreter.
    done = subprocess.run(
        [sys.executable, "-c", _ABSURD, str(tmp_path / "NBCU_absurd.xlsx")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    kind, message = done.stdout.splitlines()[:2]
    assert kind == NOT_READABLE
    assert "A1:XFD1048576" in message
