"""Reading a manifest: where the header row is found and what it must hold."""

from __future__ import annotations

from pathlib import Path

from smartcrop.ingestion.manifests import NO_HEADER_ROW, open_manifest
from tests.ingestion.manifests.reading import NBCU, read_failure, read_rows
from tests.support.workbooks import PRESS_HEADERS, press_row, write_xlsx


def test_header_on_row_10_is_found_and_on_row_11_is_not(tmp_path: Path) -> None:
    ten = write_xlsx(
        tmp_path / "ten.xlsx", [PRESS_HEADERS, press_row("SH1")], first_row=10
    )
    assert open_manifest(ten, NBCU).header_row == 10
    assert [row.row_number for row in read_rows(ten)] == [11]

    eleven = write_xlsx(
        tmp_path / "eleven.xlsx", [PRESS_HEADERS, press_row("SH1")], first_row=11
    )
    error = read_failure(eleven)
    assert error.kind == NO_HEADER_ROW == "no header row"
    assert "Program ID" in error.message and "Image URL" in error.message


def test_headers_are_case_sensitive_and_the_message_says_what_is_missing(
    tmp_path: Path,
) -> None:
    path = write_xlsx(
        tmp_path / "case.xlsx",
        [["Program ID", "Program title", "image url"], ["SH1", "T", "https://x/a"]],
    )
    error = read_failure(path)
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
    rows = read_rows(path)
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
    (row,) = read_rows(path)
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
    assert [row.program_id for row in read_rows(path)] == ["SH1"]

    second_only = write_xlsx(
        tmp_path / "second.xlsx",
        [["notes about this delivery"]],
        more_sheets={"Other": [PRESS_HEADERS, press_row("SH2")]},
    )
    assert read_failure(second_only).kind == NO_HEADER_ROW


def test_an_empty_first_sheet_has_no_header_row(tmp_path: Path) -> None:
    error = read_failure(write_xlsx(tmp_path / "empty.xlsx", []))
    assert error.kind == NO_HEADER_ROW
    assert "empty" in error.message


def test_header_without_data_gives_no_rows(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "h.xlsx", [PRESS_HEADERS, [], []])
    assert read_rows(path) == []
