"""A fast, plain .xlsx writer (shared strings and one date style, as Excel writes),
and the seeded manifest written with it (``write_manifest``)."""

from __future__ import annotations

import datetime as dt
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from bench.harness.child import child_main, run_child
from bench.harness.manifest import MANIFEST_HEADERS, TITLE_ROWS, Cell, manifest_rows

_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_EPOCH = dt.date(1899, 12, 30)
_DATE_STYLE = 1  # index in cellXfs below: numFmtId 14 (m/d/yyyy)

_CONTENT_TYPES = (
    _XML_HEAD
    + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    f'ContentType="{_CT}.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    f'ContentType="{_CT}.sharedStrings+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    _XML_HEAD + f'<Relationships xmlns="{_NS_PKG}">'
    f'<Relationship Id="rId1" Type="{_NS_REL}/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    _XML_HEAD + f'<workbook xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}"><sheets>'
    '<sheet name="Images" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    _XML_HEAD + f'<Relationships xmlns="{_NS_PKG}">'
    f'<Relationship Id="rId1" Type="{_NS_REL}/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_NS_REL}/sharedStrings" '
    'Target="sharedStrings.xml"/>'
    f'<Relationship Id="rId3" Type="{_NS_REL}/styles" Target="styles.xml"/>'
    "</Relationships>"
)
_STYLES = (
    _XML_HEAD + f'<styleSheet xmlns="{_NS_MAIN}">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
    "</borders>"
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    "</cellStyleXfs>"
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" '
    'xfId="0"/><xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" '
    'applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
    "</cellStyles></styleSheet>"
)


def _column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def write_xlsx(
    path: Path,
    rows: Sequence[Sequence[Cell]],
    headers: Sequence[str] = MANIFEST_HEADERS,
    title: str | None = "Press site image export",
) -> Path:
    """Write a one-sheet workbook: optional title row and a blank row, the header,
    then ``rows``. Strings go to the shared-strings table, dates are numbers with a
    date style, None is no cell at all."""
    strings: dict[str, int] = {}

    def sst(text: str) -> int:
        found = strings.get(text)
        if found is None:
            found = strings[text] = len(strings)
        return found

    letters = [_column_letters(i) for i in range(len(headers))]
    lines: list[str] = []
    row_number = 0
    if title is not None:
        row_number = TITLE_ROWS
        lines.append(f'<row r="1"><c r="A1" t="s"><v>{sst(title)}</v></c></row>')
    all_rows: list[Sequence[Cell]] = [list(headers), *rows]
    for values in all_rows:
        row_number += 1
        cells: list[str] = []
        for letter, value in zip(letters, values, strict=False):
            if value is None:
                continue
            ref = f"{letter}{row_number}"
            if isinstance(value, str):
                cells.append(f'<c r="{ref}" t="s"><v>{sst(value)}</v></c>')
            elif isinstance(value, dt.date):
                serial = (value - _EPOCH).days
                cells.append(f'<c r="{ref}" s="{_DATE_STYLE}"><v>{serial}</v></c>')
            else:
                cells.append(f'<c r="{ref}"><v>{value!r}</v></c>')
        if cells:
            lines.append(f'<row r="{row_number}">{"".join(cells)}</row>')
    last = f"{letters[-1]}{row_number}"
    sheet = (
        _XML_HEAD + f'<worksheet xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}">'
        f'<dimension ref="A1:{last}"/><sheetData>'
        + "".join(lines)
        + "</sheetData></worksheet>"
    )
    shared = [
        (
            f'<si><t xml:space="preserve">{escape(text)}</t></si>'
            if text != text.strip()
            else f"<si><t>{escape(text)}</t></si>"
        )
        for text in strings
    ]
    shared_xml = (
        _XML_HEAD + f'<sst xmlns="{_NS_MAIN}" count="{len(strings)}" '
        f'uniqueCount="{len(strings)}">' + "".join(shared) + "</sst>"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as book:
        book.writestr("[Content_Types].xml", _CONTENT_TYPES)
        book.writestr("_rels/.rels", _ROOT_RELS)
        book.writestr("xl/workbook.xml", _WORKBOOK)
        book.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        book.writestr("xl/styles.xml", _STYLES)
        book.writestr("xl/sharedStrings.xml", shared_xml)
        book.writestr("xl/worksheets/sheet1.xml", sheet)
    return path


def write_manifest(path: Path, n_rows: int, seed: int, **kw: Any) -> Path:
    return write_xlsx(path, manifest_rows(n_rows, seed, **kw))


def write_manifest_in_child(path: Path, n_rows: int, seed: int, **kw: Any) -> Path:
    """``write_manifest`` in a child process: a 100,000-row manifest takes a few
    hundred MB of Python objects to build, which the benchmark process must not
    keep (every child it forks would start from that size)."""
    run_child(
        "bench.harness.xlsx",
        "write_manifest",
        {"path": str(path), "n_rows": n_rows, "seed": seed, **kw},
    )
    return path


def _task_write_manifest(p: dict[str, Any]) -> dict[str, Any]:
    path = Path(p.pop("path"))
    write_manifest(path, p.pop("n_rows"), p.pop("seed"), **p)
    return {"path": str(path)}


if __name__ == "__main__":
    # The child side of write_manifest_in_child: ``child write_manifest ...``.
    sys.exit(child_main({"write_manifest": _task_write_manifest}, sys.argv[2:]))
