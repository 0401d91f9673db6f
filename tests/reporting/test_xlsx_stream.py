"""The streamed XLSX: a workbook Excel's readers open, produced while its rows come.

Read back with python-calamine (the reader our ingest uses, which follows OOXML's
_xHHHH_ escapes as Excel does) and with openpyxl (the most common Python reader).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from smartcrop.reporting.xlsx_stream import stream_xlsx

HEADER = ("Title", "Count", "SavedAt", "Note")
EST = timezone(timedelta(hours=-5))
TRICKY = [
    ('=HYPERLINK("http://x","y")', 5, datetime(2026, 3, 4, 5, 6, 7, 123000, UTC), None),
    ("ctrl\x01\x1fchars and _x0041_ kept <&>\"'", 1.5, None, "  spaces kept  "),
    ("é ✓ 東京", 0, datetime(2026, 3, 4, 23, 30, tzinfo=EST), "x"),
]


def _workbook(rows: list[tuple]) -> bytes:
    return b"".join(stream_xlsx("CroppedImageReport", HEADER, rows))


def test_values_read_back_as_written() -> None:
    content = _workbook(TRICKY)
    book = CalamineWorkbook.from_filelike(io.BytesIO(content))
    assert book.sheet_names == ["CroppedImageReport"]
    rows = book.get_sheet_by_name("CroppedImageReport").to_python()
    assert tuple(rows[0]) == HEADER
    # Text exactly as given (control characters too, which XML cannot carry as
    # they are), numbers as numbers, timestamps as naive UTC, None as an empty cell.
    assert rows[1] == [TRICKY[0][0], 5, datetime(2026, 3, 4, 5, 6, 7, 123000), ""]
    assert rows[2] == [TRICKY[1][0], 1.5, "", "  spaces kept  "]
    assert rows[3] == ["é ✓ 東京", 0, datetime(2026, 3, 5, 4, 30), "x"]


def test_openpyxl_sees_text_cells_and_dates_never_formulas() -> None:
    sheet = load_workbook(io.BytesIO(_workbook(TRICKY))).active
    assert sheet is not None and sheet.title == "CroppedImageReport"
    first = [cell for cell in next(sheet.iter_rows(min_row=2, max_row=2))]
    assert (first[0].data_type, first[0].value) == ("s", TRICKY[0][0])
    assert first[1].value == 5
    assert first[2].is_date and first[2].value == datetime(2026, 3, 4, 5, 6, 7, 123000)
    assert first[3].value is None
    assert sheet.max_row == 4 and sheet.max_column == 4


def test_the_first_bytes_leave_before_the_rows_are_all_read() -> None:
    total = 200_000
    read = 0

    def rows() -> Iterator[tuple]:
        nonlocal read
        for n in range(total):
            read += 1
            yield (f"programme {n} {n * 7919 % 104729}", n, None, None)

    chunks = stream_xlsx("CroppedImageReport", HEADER, rows())
    first = next(chunks)
    assert first.startswith(b"PK\x03\x04")  # a zip's first member, already on its way
    assert read < total / 10
    rest = b"".join(chunks)
    assert read == total
    with zipfile.ZipFile(io.BytesIO(first + rest)) as archive:
        assert archive.testzip() is None
    # Chunks stay small whatever the report's size: memory is one chunk's worth.
    assert len(first) <= 64 * 1024


def test_an_empty_report_is_a_workbook_with_its_header() -> None:
    book = CalamineWorkbook.from_filelike(io.BytesIO(_workbook([])))
    assert book.get_sheet_by_index(0).to_python() == [list(HEADER)]


def test_a_row_of_the_wrong_width_stops_the_workbook() -> None:
    with pytest.raises(ValueError, match="row 3 has 2 cells, not 4"):
        _workbook([("a", 1, None, None), ("b", 2)])


def test_a_value_with_no_cell_type_is_refused() -> None:
    with pytest.raises(TypeError, match="no XLSX cell for a dict"):
        _workbook([("a", {}, None, None)])
