"""Raw OOXML: .xlsx workbooks written part by part, so that the odd ones are exact.

A cell value of ``"\0e:#REF!"`` is an error cell; ``"\0f:FORMULA|V"`` a formula with its
cached value.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape

PRESS = ["Program ID", "Program Title", "Image URL", "Width", "Height", "Season"]

_CT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    f'relationships"><Relationship Id="rId1" Type="{REL}/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_SHEETS = '<sheets><sheet name="Images" sheetId="1" r:id="rId1"/></sheets>'
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    f'xmlns:r="{REL}">{{sheets}}</workbook>'
)
WB_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    f'relationships"><Relationship Id="rId1" Type="{REL}/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{REL}/sharedStrings" '
    'Target="sharedStrings.xml"/></Relationships>'
)
SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)
_EMPTY_SST = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'count="0" uniqueCount="0"></sst>'
)

Value = str | int | float | None


def col_name(number: int) -> str:
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell_xml(ref: str, value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value}</v></c>'
    if value.startswith("\0e:"):  # an error cell, e.g. "\0e:#REF!"
        return f'<c r="{ref}" t="e"><v>{escape(value[3:])}</v></c>'
    if value.startswith("\0f:"):  # a formula with its cached value: "\0f:FORMULA|V"
        formula, _, cached = value[3:].partition("|")
        cached_xml = f"<v>{cached}</v>" if cached else ""
        return f'<c r="{ref}"><f>{escape(formula)}</f>{cached_xml}</c>'
    text = escape(value)
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def row_xml(number: int, values: Sequence[Value], first_col: int = 1) -> str:
    cells = "".join(
        cell_xml(f"{col_name(first_col + i)}{number}", v) for i, v in enumerate(values)
    )
    return f'<row r="{number}">{cells}</row>'


def sheet_xml(body: str | Iterable[str], extra: str = "") -> bytes:
    data = body if isinstance(body, str) else "".join(body)
    return (f"{SHEET_HEAD}<sheetData>{data}</sheetData>{extra}</worksheet>").encode()


def workbook(
    sheet: bytes,
    *,
    shared_strings: bytes | None = None,
    sheets: str = _SHEETS,
    extra_parts: dict[str, bytes] | None = None,
) -> bytes:
    """An .xlsx (as bytes) around one first-sheet XML."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CT)
        archive.writestr("_rels/.rels", _PKG_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK.format(sheets=sheets))
        archive.writestr("xl/_rels/workbook.xml.rels", WB_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        archive.writestr("xl/sharedStrings.xml", shared_strings or _EMPTY_SST.encode())
        for name, data in (extra_parts or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def press_rows(count: int, start: int = 2, *, prefix: str = "SH") -> list[str]:
    return [
        row_xml(
            start + i,
            [
                f"{prefix}{i + 1:09d}",
                f"Title {i + 1}",
                f"https://press.example.com/{prefix}/{i + 1}.jpg",
                1920,
                1080,
            ],
        )
        for i in range(count)
    ]


def table(rows: Sequence[Sequence[Value]], *, header_row: int = 1) -> bytes:
    """A press-site sheet: the header on ``header_row``, then ``rows``."""
    lines = [row_xml(header_row, PRESS)]
    lines += [row_xml(header_row + 1 + i, r) for i, r in enumerate(rows)]
    return workbook(sheet_xml(lines))


def good(p: str, count: int = 3) -> bytes:
    return workbook(sheet_xml([row_xml(1, PRESS), *press_rows(count, prefix=p)]))


def row(pid: str, title: Value = "Title", url: Value = None, **more: Value) -> list:
    url = f"https://press.example.com/{pid}.jpg" if url is None else url
    return [pid, title, url, more.get("width", 1920), more.get("height", 1080)] + (
        [more["season"]] if "season" in more else []
    )


def image_url(n: int) -> str:
    return f"https://press.example.com/{n}.jpg"
