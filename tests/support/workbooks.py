"""Builds small manifest workbooks for the tests, as providers' tools write them."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook

PRESS_HEADERS = [
    "Program ID",
    "Program Title",
    "Episode Title",
    "Season",
    "Episode",
    "Image URL",
    "Image Type",
    "Language",
    "Width",
    "Height",
    "Rights",
    "Notes",
]


def write_xlsx(
    path: Path,
    rows: Iterable[Sequence[Any]],
    *,
    first_row: int = 1,
    first_col: int = 1,
    more_sheets: dict[str, list[list[Any]]] | None = None,
    number_formats: dict[str, str] | None = None,
) -> Path:
    """Write ``rows`` (None = empty cell) from (first_row, first_col) of the first
    sheet; ``number_formats`` maps a cell name ("B7") to an Excel number format."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Images"
    for r, values in enumerate(rows, start=first_row):
        for c, value in enumerate(values, start=first_col):
            if value is not None:
                sheet.cell(row=r, column=c, value=value)
    for cell, number_format in (number_formats or {}).items():
        sheet[cell].number_format = number_format
    for title, extra in (more_sheets or {}).items():
        other = book.create_sheet(title)
        for values in extra:
            other.append(values)
    book.save(path)
    return path


def press_row(program_id: Any = "SH000000000001", **values: Any) -> list[Any]:
    """A press-site row; keyword names are the headers with "_" for spaces."""
    row: dict[str, Any] = {
        "Program ID": program_id,
        "Program Title": "Night Court",
        "Image URL": f"https://press.example.com/{program_id}.jpg",
    }
    for key, value in values.items():
        row[key.replace("_", " ")] = value
    unknown = set(row) - set(PRESS_HEADERS)
    assert not unknown, unknown
    return [row.get(header) for header in PRESS_HEADERS]


def rewrite_sheet_xml(source: Path, target: Path, edit: Any) -> Path:
    """Copy an .xlsx, passing its first sheet's XML (bytes) through ``edit``."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = edit(data)
            zout.writestr(info, data)
    return target
