"""Checks that python-calamine can load an .xlsx without taking the process down.

calamine loads a sheet as one dense grid spanning its outermost cells. One stray value
far from the table (say in cell XFD1048576) makes that grid 17 billion cells, and the
failed allocation aborts the whole process: no exception, no failed-file record, the
worker is gone. So before calamine sees a file, its first sheet's XML is streamed once
(a byte scan for cell references, or expat when cells carry none), keeping nothing but
the extent, and an absurd extent or size is refused as "not a readable workbook" with a
message saying what to fix.
"""

from __future__ import annotations

import os
import posixpath
import re
import zipfile
import zlib
from operator import itemgetter
from pathlib import Path
from typing import IO
from xml.etree import ElementTree
from xml.parsers import expat

from smartcrop.ingestion.manifests.errors import NOT_READABLE, ManifestError

# 5 million cells is 25 columns x 200,000 rows: far beyond any real manifest, and
# about 160 MB in calamine's grid.
MAX_SHEET_CELLS = 5_000_000
# Declared size of all parts together once unpacked (guards against zip bombs).
MAX_UNPACKED_BYTES = 1 << 30
# workbook.xml and the .rels parts are small; they are parsed in memory.
MAX_INDEX_PART_BYTES = 16 << 20

_OFFICE_DOCUMENT = "/officeDocument"
_CELL_REF = re.compile(r"([A-Za-z]{1,3})?(\d+)?")


def _refuse(path: Path, why: str) -> ManifestError:
    return ManifestError(NOT_READABLE, f"{path.name}: {why}")


def _local(name: str) -> str:
    # ElementTree names are "{uri}local", expat's (namespace_separator=" ") "uri local";
    # a name outside any namespace may still carry a "prefix:".
    return re.split(r"[} :]", name)[-1]


def _read_small(archive: zipfile.ZipFile, part: str) -> ElementTree.Element:
    info = archive.getinfo(part)
    if info.file_size > MAX_INDEX_PART_BYTES:
        raise ValueError(f"part {part} is implausibly large")
    data = archive.read(part)
    if b"<!DOCTYPE" in data:
        _no_dtd()
    # No DTD, so no entities to expand: the parse below is safe on untrusted input.
    return ElementTree.fromstring(data)  # noqa: S314


def _rels_part(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _relationships(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, target part) of one part."""
    folder = posixpath.dirname(part)
    found: dict[str, tuple[str, str]] = {}
    for rel in _read_small(archive, _rels_part(part)):
        target = rel.get("Target", "")
        if target.startswith("/"):
            resolved = target.lstrip("/")
        else:
            resolved = posixpath.normpath(posixpath.join(folder, target))
        found[rel.get("Id", "")] = (rel.get("Type", ""), resolved)
    return found


def _first_sheet_part(archive: zipfile.ZipFile) -> str:
    package = _relationships(archive, "")
    workbook = next(
        (
            target
            for kind, target in package.values()
            if kind.endswith(_OFFICE_DOCUMENT)
        ),
        None,
    )
    if workbook is None:
        raise ValueError("it has no workbook part")
    sheets = next(
        (el for el in _read_small(archive, workbook) if _local(el.tag) == "sheets"),
        None,
    )
    first = next(iter(sheets), None) if sheets is not None else None
    if first is None:
        raise ValueError("the workbook has no sheets")
    rel_id = next(
        (value for key, value in first.attrib.items() if _local(key) == "id"), ""
    )
    sheet = _relationships(archive, workbook).get(rel_id)
    if sheet is None:
        raise ValueError("the first sheet's part is missing")
    return sheet[1]


def _cell_name(col: int, row: int) -> str:
    letters = ""
    while col > 0:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row}"


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


class _Extent:
    """The rows and columns spanned by the cells that hold a value."""

    def __init__(self) -> None:
        self.bounds: list[int] | None = None  # low row, high row, low col, high col

    def add(self, low_row: int, high_row: int, low_col: int, high_col: int) -> None:
        if self.bounds is None:
            self.bounds = [low_row, high_row, low_col, high_col]
            return
        b = self.bounds
        b[0], b[1] = min(b[0], low_row), max(b[1], high_row)
        b[2], b[3] = min(b[2], low_col), max(b[3], high_col)

    @property
    def area(self) -> int:
        if self.bounds is None:
            return 0
        low_row, high_row, low_col, high_col = self.bounds
        return (high_row - low_row + 1) * (high_col - low_col + 1)


# Fast path: a byte scan for cell tags that are not self-closing (a self-closing
# <c r="..." s="1"/> only carries a style, and calamine skips it). A cell opened as
# <c ...></c> with nothing inside is counted too: over-counting can only make the
# check stricter, never let an absurd sheet through. Patterns are built per sheet for
# its namespace prefix (usually none), which keeps them cheap.
_ROOT = re.compile(rb"<([\w.-]+:)?worksheet[\s>]")
_CHUNK = 1 << 20
_FIRST, _SECOND = itemgetter(0), itemgetter(1)  # a reference's letters, its digits


def _cell_patterns(prefix: bytes) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    tag = b"<" + re.escape(prefix) + b"c"
    ref = rb"r=[\"']([A-Za-z]{1,3})(\d{1,9})[\"']"
    return (
        # Every cell with content, in one pass: its reference when r comes first, as
        # usual; empty groups when r is elsewhere, missing or not a plain reference.
        # (A cell the r-first branch matches but whose tag then turns out to be
        # self-closing fails the other branch too: both end at the same ">".)
        re.compile(tag + rb"(?=[\s>])(?: " + ref + rb")?[^>]*(?<!/)>"),
        re.compile(tag + rb"\s[^>]*?(?<=\s)" + ref + rb"[^>]*(?<!/)>"),  # r anywhere
    )


def _scan_fast(stream: IO[bytes]) -> _Extent | None:
    """None when the exact (slower) scan is needed: cells without a reference (they
    are placed by counting) or text that is not UTF-8."""
    extent = _Extent()
    head = stream.read(_CHUNK)
    root = _ROOT.search(head[:4096])
    if root is None:
        return None  # UTF-16, or an unexpected root: leave it to expat
    if b"<!DOCTYPE" in head[: root.start()]:
        _no_dtd()  # refused on both paths alike
    every_cell, ref_anywhere = _cell_patterns(root.group(1) or b"")
    tail, chunk = b"", head
    while True:
        data = tail + chunk
        # Cut before the last "<" so that no tag is split between two chunks.
        cut = data.rfind(b"<") if chunk else len(data)
        body, tail = (data, b"") if cut < 0 else (data[:cut], data[cut:])
        if len(tail) > _CHUNK:
            return None  # a tag longer than a chunk: not what spreadsheets write
        refs = every_cell.findall(body)
        if refs:
            # Tens of thousands of cells per chunk, but a few dozen distinct columns
            # and rows: they are de-duplicated at C speed, and only those converted.
            columns = set(map(_FIRST, refs))
            if b"" in columns:  # some cell's r is not first, or it has none
                cells = len(refs)
                refs = ref_anywhere.findall(body)
                if len(refs) != cells:
                    return None
                columns = set(map(_FIRST, refs))
            rows = [int(text) for text in set(map(_SECOND, refs))]
            cols = [_column_number(text.decode()) for text in columns]
            extent.add(min(rows), max(rows), min(cols), max(cols))
        if not chunk:
            return extent
        chunk = stream.read(_CHUNK)


class _ExactScan:
    """Follows the sheet XML element by element, placing cells the way calamine does
    when they carry no reference: next column, or next row."""

    def __init__(self) -> None:
        self.extent = _Extent()
        self.row = 0
        self.col = 0
        self.in_cell = False
        self.cell_has_value = False

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = _local(name)
        if local == "row":
            given = attrs.get("r", "")
            numeric = given.isascii() and given.isdigit()
            self.row = int(given) if numeric else self.row + 1
            self.col = 0
        elif local == "c":
            ref = _CELL_REF.fullmatch(attrs.get("r", ""))
            letters = ref.group(1) if ref else None
            self.col = _column_number(letters) if letters else self.col + 1
            if ref and ref.group(2):
                self.row = int(ref.group(2))
            self.in_cell, self.cell_has_value = True, False
        elif self.in_cell and local in ("v", "is"):
            self.cell_has_value = True

    def end(self, name: str) -> None:
        if _local(name) == "c" and self.in_cell:
            self.in_cell = False
            if self.cell_has_value:  # calamine skips cells that only carry a style
                self.extent.add(self.row, self.row, self.col, self.col)


def _no_dtd(*_args: object) -> None:
    # A spreadsheet part never has a DTD; refusing one rules out entity expansion.
    raise ValueError("a sheet with a DTD")


def _scan_sheet(archive: zipfile.ZipFile, part: str) -> _Extent:
    # Reading through zipfile to the end also checks the part's CRC and declared size.
    with archive.open(part) as stream:
        extent = _scan_fast(stream)
    if extent is not None:
        return extent
    scan = _ExactScan()
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = scan.start
    parser.EndElementHandler = scan.end
    parser.StartDoctypeDeclHandler = _no_dtd
    with archive.open(part) as stream:
        parser.ParseFile(stream)
    return scan.extent


def check_workbook(path: str | os.PathLike[str]) -> None:
    """Raise ManifestError("not a readable workbook") unless ``path`` is an .xlsx whose
    first sheet python-calamine can load safely."""
    path = Path(path)
    if path.stat().st_size == 0:
        raise _refuse(path, "the file is empty")
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
            if unpacked > MAX_UNPACKED_BYTES:
                raise _refuse(path, f"it unpacks to {unpacked} bytes, too many")
            try:
                part = _first_sheet_part(archive)
            except KeyError as exc:
                raise ValueError(f"a part is missing ({exc.args[0]})") from exc
            extent = _scan_sheet(archive, part)
    except zipfile.BadZipFile as exc:
        raise _refuse(
            path,
            "it is not an .xlsx workbook (not a valid zip archive: damaged, "
            f"truncated, an old .xls, or password-protected) ({exc})",
        ) from exc
    except (
        ValueError,  # the refusals above, and numbers that do not parse
        KeyError,
        EOFError,
        RuntimeError,  # an encrypted part
        NotImplementedError,  # a compression method zipfile does not know
        zlib.error,
        ElementTree.ParseError,
        expat.ExpatError,
    ) as exc:
        raise _refuse(path, f"it is not a valid .xlsx workbook: {exc}") from exc
    if extent.area > MAX_SHEET_CELLS:
        low_row, high_row, low_col, high_col = extent.bounds or [0, 0, 0, 0]
        raise _refuse(
            path,
            f"its first sheet spans {_cell_name(low_col, low_row)}:"
            f"{_cell_name(high_col, high_row)}, {extent.area:,} cells (at most "
            f"{MAX_SHEET_CELLS:,} are read); delete the stray values far from the "
            "table and send the file again",
        )
