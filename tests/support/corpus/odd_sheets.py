"""Readable workbooks with odd sheets: a million rows, column XFD, merged headers,
dates in the id column, formulas."""

from __future__ import annotations

import io
import zipfile

from tests.support.corpus.ooxml import (
    PRESS,
    REL,
    WB_RELS,
    cell_xml,
    image_url,
    press_rows,
    row_xml,
    sheet_xml,
    workbook,
)


def million_empty_rows(p: str) -> bytes:
    """Header, two data rows, then every remaining row of a sheet present but empty
    (styled cells, as "format the whole column" leaves them): about 30 MB of XML."""
    parts = [row_xml(1, PRESS), *press_rows(2, prefix=p)]
    parts.extend(
        f'<row r="{n}"><c r="A{n}" s="1"/><c r="B{n}" s="1"/></row>'
        for n in range(4, 1_048_577)
    )
    return workbook(sheet_xml(parts))


def data_after_a_million_rows(p: str) -> bytes:
    """A row at the very bottom of the sheet (row 1,048,576), three columns wide."""
    return workbook(
        sheet_xml(
            [
                row_xml(1, PRESS[:3]),
                row_xml(2, [f"{p}1", "Top", image_url(1)]),
                row_xml(1_048_576, [f"{p}2", "Bottom", image_url(2)]),
            ]
        )
    )


def wide_header(p: str, columns: int = 16_384, rows: int = 20) -> bytes:
    """A header row reaching column XFD (the last one), data in the first columns."""
    header = PRESS + [f"junk {i}" for i in range(len(PRESS) + 1, columns + 1)]
    return workbook(sheet_xml([row_xml(1, header), *press_rows(rows, prefix=p)]))


def wide_table(p: str, rows: int = 400) -> bytes:
    """A value in column XFD on every row: more than the 5,000,000 cells read."""
    parts = [row_xml(1, PRESS)]
    parts += [
        row_xml(n, [f"{p}1", "T", image_url(1)]).replace(
            "</row>", f'<c r="XFD{n}"><v>1</v></c></row>'
        )
        for n in range(2, rows + 2)
    ]
    return workbook(sheet_xml(parts))


def stray_cell_at_the_end(p: str) -> bytes:
    return workbook(
        sheet_xml(
            [row_xml(1, PRESS), *press_rows(1, prefix=p)]
            + ['<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>']
        )
    )


def merged_headers(p: str) -> bytes:
    """A merged group label above the real header row."""
    parts = [
        row_xml(1, ["Programme", None, None, "Size"]),
        row_xml(2, PRESS),
        *press_rows(2, start=3, prefix=p),
    ]
    merges = (
        '<mergeCells count="2"><mergeCell ref="A1:C1"/><mergeCell ref="D1:E1"/>'
        "</mergeCells>"
    )
    return workbook(sheet_xml(parts, extra=merges))


def dates_in_id_column(p: str) -> bytes:
    """Programme ids formatted as dates (a provider's Excel "helping"): kept as text."""
    styles = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
        '<fonts count="1"><font/></fonts><fills count="1"><fill/></fills>'
        '<borders count="1"><border/></borders>'
        '<cellStyleXfs count="1"><xf/></cellStyleXfs>'
        '<cellXfs count="2"><xf/><xf numFmtId="164" applyNumberFormat="1"/></cellXfs>'
        "</styleSheet>"
    )
    parts = [row_xml(1, PRESS)]
    for n, serial in ((2, 46346), (3, 46347)):
        parts.append(
            f'<row r="{n}"><c r="A{n}" s="1"><v>{serial}</v></c>'
            + cell_xml(f"B{n}", "Dated")
            + cell_xml(f"C{n}", f"https://press.example.com/{p}/{n}.jpg")
            + "</row>"
        )
    rels = WB_RELS.replace(
        "</Relationships>",
        f'<Relationship Id="rId3" Type="{REL}/styles" Target="styles.xml"/>'
        "</Relationships>",
    )
    book = workbook(sheet_xml(parts), extra_parts={"xl/styles.xml": styles.encode()})
    return _replace_part(book, "xl/_rels/workbook.xml.rels", rels.encode())


def _replace_part(book: bytes, name: str, data: bytes) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(book)) as zin,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout,
    ):
        for info in zin.infolist():
            zout.writestr(
                info.filename, data if info.filename == name else zin.read(info)
            )
    return out.getvalue()


def formulas(p: str) -> bytes:
    """Formulas with cached values (as Excel saves them) and one without any."""
    parts = [
        row_xml(1, PRESS),
        row_xml(
            2,
            [
                f"{p}1",
                '\0f:CONCAT("Night ","Court")|Night Court',
                image_url(1),
                "\0f:960*2|1920",
                "\0f:540*2|1080",
            ],
        ),
        row_xml(3, [f"{p}2", "\0f:NOW()|", image_url(2), 100, 100]),
        row_xml(4, [f"{p}3", "T", "\0f:A1|", 100, 100]),
    ]
    return workbook(sheet_xml(parts))
