"""An XLSX workbook of one sheet, produced as bytes while its rows are still coming.

An XLSX is a zip of XML parts. openpyxl (even write-only) finishes the zip only at
``save``, so a download written with it sends its first byte after its last row. Here
openpyxl still writes every part but the sheet, once per process (content types,
workbook, styles with its date format: a template), stream-zip writes the zip as a
stream (data descriptors after each member, so no size is needed up front), and the
sheet's rows are rendered here, one ``<row>`` at a time, as inline strings (a shared
strings table would have to be held in memory until the end, which is what made
openpyxl's memory grow with the report). The choice against xlsx_streaming is in
docs/dependencies.md.

Cells follow what openpyxl wrote before: text is always a text cell (even "=..."),
datetimes are naive UTC with a date format, numbers are numbers, None is an empty cell.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from stream_zip import ZIP_32, MemberFile, stream_zip

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<worksheet xmlns="{_MAIN_NS}"><sheetData>'
)
_SHEET_TAIL = "</sheetData></worksheet>"
# Characters XML 1.0 cannot carry (PostgreSQL text can hold all but NUL): written as
# OOXML's _xHHHH_ escape, which Excel and openpyxl turn back into the character. Text
# that already looks like such an escape gets its underscore escaped (_x005F_), so it
# reads back as written.
_NOT_XML = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_LOOKS_ESCAPED = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
# Rows are joined into chunks of about this many characters before compression.
_CHUNK_CHARS = 256 * 1024
# Member files are stamped with a fixed time, so one report's bytes do not depend on
# the second it was asked for (the sheet's content does).
_MODIFIED = datetime(2024, 1, 1)


class _Template:
    """openpyxl's parts of a one-sheet workbook, and the style index of its dates."""

    def __init__(self, sheet_name: str) -> None:
        workbook = Workbook()
        sheet = workbook.active
        assert sheet is not None  # a new Workbook always has one sheet
        sheet.title = sheet_name
        sheet["A1"] = datetime(2024, 1, 1)
        # The index of the cell format openpyxl gave its dates, as it writes it in s="".
        self.date_style = str(sheet["A1"].style_id)
        buffer = io.BytesIO()
        workbook.save(buffer)
        with zipfile.ZipFile(buffer) as archive:
            self.parts = [
                (info.filename, archive.read(info)) for info in archive.infolist()
            ]
        self.sheet_path = "xl/worksheets/sheet1.xml"
        assert self.sheet_path in dict(self.parts), "openpyxl named its sheet anew"


@lru_cache(maxsize=8)
def _template(sheet_name: str) -> _Template:
    return _Template(sheet_name)


def _text(value: str) -> str:
    if "_x" in value:
        value = _LOOKS_ESCAPED.sub(r"_x005F_\1", value)
    value = _NOT_XML.sub(lambda m: f"_x{ord(m.group()):04X}_", value)
    space = ' xml:space="preserve"' if value != value.strip() else ""
    return f"<is><t{space}>{escape(value)}</t></is>"


def _cell(ref: str, value: Any, date_style: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return f'<c r="{ref}" t="inlineStr">{_text(value)}</c>'
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float | Decimal):
        return f'<c r="{ref}"><v>{value}</v></c>'
    if isinstance(value, datetime | date):
        # Excel has no time zones: timestamps are written as naive UTC.
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        # types-openpyxl leaves to_excel unannotated (it returns a float).
        serial = to_excel(value)  # type: ignore[no-untyped-call]
        return f'<c r="{ref}" s="{date_style}"><v>{serial}</v></c>'
    raise TypeError(f"no XLSX cell for a {type(value).__name__}")


def _sheet(
    header: Sequence[str], rows: Iterable[Sequence[Any]], date_style: str
) -> Iterator[bytes]:
    letters = [get_column_letter(n) for n in range(1, len(header) + 1)]
    parts = [_SHEET_HEAD]
    size = len(_SHEET_HEAD)
    for number, row in enumerate(_with_header(header, rows), start=1):
        if len(row) != len(letters):
            raise ValueError(f"row {number} has {len(row)} cells, not {len(letters)}")
        cells = "".join(
            _cell(f"{letter}{number}", value, date_style)
            for letter, value in zip(letters, row, strict=True)
        )
        line = f'<row r="{number}">{cells}</row>'
        parts.append(line)
        size += len(line)
        if size >= _CHUNK_CHARS:
            yield "".join(parts).encode()
            parts, size = [], 0
    parts.append(_SHEET_TAIL)
    yield "".join(parts).encode()


def _with_header(
    header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> Iterator[Sequence[Any]]:
    yield header
    yield from rows


def stream_xlsx(
    sheet_name: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> Iterable[bytes]:
    """The workbook's bytes, in chunks of about 64 KiB, the first of them as soon as
    the first rows are rendered; ``rows`` is read once, lazily.

    The sheet is a ZIP_32 member: a sheet over 4 GiB of XML would stop the stream
    with an error, far past Excel's own limit of 1,048,576 rows.
    """
    template = _template(sheet_name)
    members: list[MemberFile] = [
        (name, _MODIFIED, 0o600, ZIP_32, (data,))
        for name, data in template.parts
        if name != template.sheet_path
    ]
    sheet = _sheet(header, rows, template.date_style)
    members.append((template.sheet_path, _MODIFIED, 0o600, ZIP_32, sheet))
    return stream_zip(members, get_compressobj=_deflate, extended_timestamps=False)


def _deflate() -> Any:
    # zlib's default level (openpyxl's too): stream-zip's default of 9 costs about
    # twice the time for a few per cent of size.
    return zlib.compressobj(wbits=-zlib.MAX_WBITS, level=6)
