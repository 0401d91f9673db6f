from __future__ import annotations

import dataclasses
import inspect
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from smartcrop.ingestion.manifests import (
    DEFAULT_PROVIDER_FILE_TYPE,
    NO_HEADER_ROW,
    NOT_READABLE,
    ManifestError,
    ParsedRow,
    detect_provider,
    open_manifest,
)
from tests.support.workbooks import PRESS_HEADERS, press_row, write_xlsx

NBCU = detect_provider("NBCU_x.xlsx", DEFAULT_PROVIDER_FILE_TYPE)
TMDB = detect_provider("TMDB_x.xlsx", DEFAULT_PROVIDER_FILE_TYPE)
SLING = detect_provider("SLING_x.xlsx", DEFAULT_PROVIDER_FILE_TYPE)
EMAIL = detect_provider("EMAIL_x.xlsx", DEFAULT_PROVIDER_FILE_TYPE)


def _rows(path: Path, match=NBCU) -> list[ParsedRow]:
    return list(open_manifest(path, match).rows())


def _failure(path: Path, match=NBCU) -> ManifestError:
    with pytest.raises(ManifestError) as caught:
        open_manifest(path, match)
    return caught.value


def test_press_site_rules(tmp_path: Path) -> None:
    padded = [f"  {header} " for header in PRESS_HEADERS] + [" Internal Code "]
    path = write_xlsx(
        tmp_path / "NBCU_rules.xlsx",
        [
            ["NBCU_rules.xlsx export"],  # row 1: a title above the table
            [],  # row 2
            padded,  # row 3: the header, padded, plus an extra column
            press_row(12345.0, Season=2.0, Episode=7, Image_Type="Key Art") + ["X1"],
            [],  # row 5: wholly empty, skipped without a report
            press_row("EP1", Image_Type="Thumbnail", Language="Deutsch", Width=1600.0),
            press_row("EP2", Image_URL="ftp://press.example.com/a.jpg"),
            press_row("EP3", Width="abc", Height=12.5),
            press_row("EP4", Width=0, Height=-5),
            press_row(None, Image_URL="http://x.example.com/b.jpg"),
            press_row("EP5", Image_URL=None),
            press_row("EP6", Language="eng", Rights="Editorial only", Notes="tight"),
            press_row("EP6", Language="eng", Rights="Editorial only", Notes="tight"),
            [None] * 12 + ["only an extra column"],
        ],
    )
    manifest = open_manifest(path, NBCU)
    assert manifest.header_row == 3
    assert manifest.headers == tuple(PRESS_HEADERS) + ("Internal Code",)
    rows = list(manifest.rows())

    assert [row.row_number for row in rows] == [4, 6, 7, 8, 9, 10, 11, 12, 13, 14]
    assert {row.provider_name for row in rows} == {"NBCU"}
    first = rows[0]
    assert (first.program_id, first.season, first.episode) == ("12345", "2", "7")
    assert (first.image_type, first.image_type_id) == ("Key Art", 1)
    assert (first.rights, first.notes, first.source_ref) == (
        "Provider Supplied",
        "",
        None,
    )
    assert (first.width, first.height, first.reject_reason) == (None, None, None)

    unknown = rows[1]
    assert (unknown.image_type, unknown.image_type_id) == ("Thumbnail", None)
    assert (unknown.language, unknown.language_id) == ("Deutsch", None)
    assert (unknown.width, unknown.reject_reason) == (1600, None)

    assert [row.reject_reason for row in rows[2:7]] == [
        "image URL is not http(s)",
        "width is not a positive whole number; height is not a positive whole number",
        "width is not a positive whole number; height is not a positive whole number",
        "missing program id",
        "missing image URL",
    ]
    # Duplicates are emitted as they are: counting them is the database's job.
    assert (rows[7].row_number, rows[8].row_number) == (12, 13)
    assert rows[7] == dataclasses.replace(rows[8], row_number=12)
    assert (rows[7].language_id, rows[7].rights, rows[7].notes) == (
        1,
        "Editorial only",
        "tight",
    )
    # A value only in an extra column makes the row non-empty, and it is rejected.
    assert rows[9].reject_reason == "missing program id; missing image URL"


def test_header_on_row_10_is_found_and_on_row_11_is_not(tmp_path: Path) -> None:
    ten = write_xlsx(
        tmp_path / "ten.xlsx", [PRESS_HEADERS, press_row("SH1")], first_row=10
    )
    assert open_manifest(ten, NBCU).header_row == 10
    assert [row.row_number for row in _rows(ten)] == [11]

    eleven = write_xlsx(
        tmp_path / "eleven.xlsx", [PRESS_HEADERS, press_row("SH1")], first_row=11
    )
    error = _failure(eleven)
    assert error.kind == NO_HEADER_ROW == "no header row"
    assert "Program ID" in error.message and "Image URL" in error.message


def test_headers_are_case_sensitive_and_the_message_says_what_is_missing(
    tmp_path: Path,
) -> None:
    path = write_xlsx(
        tmp_path / "case.xlsx",
        [["Program ID", "Program title", "image url"], ["SH1", "T", "https://x/a"]],
    )
    error = _failure(path)
    assert error.kind == NO_HEADER_ROW
    assert "row 1 comes closest" in error.message
    assert "missing: Program Title, Image URL" in error.message
    assert "case-sensitive" in error.message


def test_first_matching_row_is_the_header_and_duplicates_use_the_first_column(
    tmp_path: Path,
) -> None:
    path = write_xlsx(
        tmp_path / "dup.xlsx",
        [
            ["Program ID", "Program Title"],  # not every required header: not it
            ["Program ID", "Program Title", "Image URL", "Image URL"],
            ["SH1", "T", "https://x/first.jpg", "https://x/second.jpg"],
            ["Program ID", "Program Title", "Image URL"],  # a data row now
        ],
    )
    manifest = open_manifest(path, NBCU)
    assert manifest.header_row == 2
    rows = list(manifest.rows())
    assert rows[0].image_url == "https://x/first.jpg"
    assert rows[1].reject_reason == "image URL is not http(s)"


def test_data_away_from_a1_keeps_sheet_row_numbers(tmp_path: Path) -> None:
    # Rows 1-4 and columns A-C empty: calamine's grid starts at D5, the numbers must
    # still be the ones the provider sees in Excel.
    path = write_xlsx(
        tmp_path / "offset.xlsx",
        [PRESS_HEADERS, [], press_row("SH1"), press_row("SH2")],
        first_row=5,
        first_col=4,
    )
    manifest = open_manifest(path, NBCU)
    assert manifest.header_row == 5
    rows = list(manifest.rows())
    assert [(row.row_number, row.program_id) for row in rows] == [
        (7, "SH1"),
        (8, "SH2"),
    ]


def test_values_right_of_the_header_are_ignored(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "right.xlsx",
        [
            ["Program ID", "Program Title", "Image URL"],
            ["SH1", "T", "https://x/a", "stray"],
            [None, None, None, None, None, "far stray"],
        ],
    )
    rows = _rows(path)
    assert [(row.row_number, row.reject_reason) for row in rows] == [(2, None)]
    assert open_manifest(path, NBCU).headers == (
        "Program ID",
        "Program Title",
        "Image URL",
    )


def test_only_required_headers_gives_defaults(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "min.xlsx",
        [["Image URL", "Program Title", "Program ID"], ["https://x/a", "T", "SH1"]],
    )
    (row,) = _rows(path)
    assert (row.program_id, row.image_url, row.program_title) == (
        "SH1",
        "https://x/a",
        "T",
    )
    assert (row.rights, row.notes, row.width, row.language_id) == (
        "Provider Supplied",
        "",
        None,
        None,
    )


def test_only_the_first_sheet_is_read(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "sheets.xlsx",
        [PRESS_HEADERS, press_row("SH1")],
        more_sheets={"Other": [PRESS_HEADERS, press_row("SH2"), press_row("SH3")]},
    )
    assert [row.program_id for row in _rows(path)] == ["SH1"]

    second_only = write_xlsx(
        tmp_path / "second.xlsx",
        [["notes about this delivery"]],
        more_sheets={"Other": [PRESS_HEADERS, press_row("SH2")]},
    )
    assert _failure(second_only).kind == NO_HEADER_ROW


def test_an_empty_first_sheet_has_no_header_row(tmp_path: Path) -> None:
    error = _failure(write_xlsx(tmp_path / "empty.xlsx", []))
    assert error.kind == NO_HEADER_ROW
    assert "empty" in error.message


def test_header_without_data_gives_no_rows(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "h.xlsx", [PRESS_HEADERS, [], []])
    assert _rows(path) == []


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
    error = _failure(path)
    assert error.kind == NOT_READABLE == "not a readable workbook"
    assert "NBCU_bad.xlsx" in error.message


def test_a_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "zip.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert _failure(path).kind == NOT_READABLE


def test_a_truncated_workbook(tmp_path: Path) -> None:
    whole = write_xlsx(tmp_path / "whole.xlsx", [PRESS_HEADERS, press_row("SH1")])
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    assert _failure(cut).kind == NOT_READABLE


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
    rows = _rows(path)
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


def test_rows_stream_from_a_generator_and_restart(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "gen.xlsx", [PRESS_HEADERS] + [press_row(f"SH{i}") for i in range(5)]
    )
    manifest = open_manifest(path, NBCU)
    stream = manifest.rows()
    assert inspect.isgenerator(stream)
    assert next(stream).program_id == "SH0"
    assert [row.program_id for row in manifest.rows()] == [f"SH{i}" for i in range(5)]


def test_tmdb_layout(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "TMDB_1.xlsx",
        [
            ["tmdb_id", "tivo_program_id", "title", "image_type", "iso_639_1"]
            + ["file_path", "width", "height"],
            [646266.0, 812640864.0, "Court", "still", "fr", "/abc.jpg", 1280.0, 720.0],
            [5.0, "MV1", "x", "backdrop", "xx", "def.jpg", None, None],
            [6, None, "x", None, None, "/y.jpg", None, None],
            [7, "MV2", "x", None, None, None, None, None],
        ],
    )
    rows = _rows(path, TMDB)
    assert rows[0].program_id == "812640864"
    assert rows[0].source_ref == "646266"
    assert rows[0].image_url == "https://image.tmdb.org/t/p/original/abc.jpg"
    assert (rows[0].image_type_id, rows[0].language_id) == (4, 3)
    assert (rows[0].width, rows[0].height, rows[0].provider_name) == (1280, 720, "TMDB")
    assert rows[1].image_url == "https://image.tmdb.org/t/p/original/def.jpg"
    assert (rows[1].image_type_id, rows[1].language_id) == (3, 8)
    assert rows[2].reject_reason == "missing program id"
    assert rows[3].reject_reason == "missing image URL"


def test_sling_layout(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "SLING_1.xlsx",
        [
            ["ASSET_ID", "PROGRAM_ID", "SERIES_NAME", "EPISODE_NAME", "IMAGE_LINK"]
            + ["IMAGE_TYPE", "LANG", "IMG_W", "IMG_H"],
            [
                "A1",
                "  EP9 ",
                "Zoë",
                "Ep",
                "https://s/0.png",
                "STILL",
                "POR",
                1920.0,
                1080,
            ],
        ],
    )
    (row,) = _rows(path, SLING)
    assert (row.program_id, row.source_ref, row.program_title, row.episode_title) == (
        "EP9",
        "A1",
        "Zoë",
        "Ep",
    )
    assert (row.image_type_id, row.language_id, row.width, row.height) == (
        4,
        5,
        1920,
        1080,
    )
    assert row.rights == "Provider Supplied"


def test_email_layout(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "EMAIL_1.xlsx",
        [
            ["from a partner"],
            ["ProgramID", "Title", "ImageURL", "ImageType", "Language", "Notes"]
            + ["SubmittedBy"],
            ["SH1", "T", "http://i/1.jpeg", "banner", "Italian", "sent", "ops@x.org"],
        ],
    )
    (row,) = _rows(path, EMAIL)
    assert (row.row_number, row.program_id, row.image_url) == (
        3,
        "SH1",
        "http://i/1.jpeg",
    )
    assert (row.image_type_id, row.language_id, row.notes, row.source_ref) == (
        2,
        6,
        "sent",
        "ops@x.org",
    )
    # The press-site headers do not make an email manifest.
    press = write_xlsx(tmp_path / "EMAIL_2.xlsx", [PRESS_HEADERS, press_row("SH1")])
    assert _failure(press, EMAIL).kind == NO_HEADER_ROW


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
