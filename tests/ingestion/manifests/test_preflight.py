"""The guard that keeps calamine from aborting the process on an absurd sheet."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from smartcrop.ingestion.manifests import (
    DEFAULT_PROVIDER_FILE_TYPE,
    NOT_READABLE,
    ManifestError,
    detect_provider,
    open_manifest,
    preflight,
)
from tests.support.workbooks import (
    PRESS_HEADERS,
    press_row,
    rewrite_sheet_xml,
    write_xlsx,
)

NBCU = detect_provider("NBCU_x.xlsx", DEFAULT_PROVIDER_FILE_TYPE)


def _extent(path: Path, exact: bool) -> list[int] | None:
    with zipfile.ZipFile(path) as archive:
        part = preflight._first_sheet_part(archive)
        if not exact:
            return preflight._scan_sheet(archive, part).bounds
        scan = preflight._ExactScan()
        parser = preflight.expat.ParserCreate(namespace_separator=" ")
        parser.StartElementHandler = scan.start
        parser.EndElementHandler = scan.end
        with archive.open(part) as stream:
            parser.ParseFile(stream)
        return scan.extent.bounds


@pytest.fixture
def table(tmp_path: Path) -> Path:
    return write_xlsx(
        tmp_path / "table.xlsx",
        [[], PRESS_HEADERS, press_row("SH1"), [], press_row("SH2", Width=10)],
        first_col=2,
    )


def test_fast_and_exact_scans_agree(table: Path) -> None:
    assert _extent(table, exact=False) == _extent(table, exact=True) == [2, 5, 2, 13]


def test_cells_without_references_are_placed_by_counting(
    table: Path, tmp_path: Path
) -> None:
    def drop_cell_refs(xml: bytes) -> bytes:
        return re.sub(rb'(<c) r="[A-Z]+\d+"', rb"\1", xml)

    bare = rewrite_sheet_xml(table, tmp_path / "bare.xlsx", drop_cell_refs)
    # Counted from column A in each row, as calamine does; the exact scan is used.
    assert _extent(bare, exact=False) == [2, 5, 1, 12]
    rows = list(open_manifest(bare, NBCU).rows())
    assert [(row.row_number, row.program_id) for row in rows] == [
        (3, "SH1"),
        (5, "SH2"),
    ]


def test_a_namespace_prefix_is_understood(table: Path, tmp_path: Path) -> None:
    def prefix(xml: bytes) -> bytes:
        xml = xml.replace(b"<worksheet xmlns=", b"<x:worksheet xmlns:x=", 1)
        xml = re.sub(rb"<(/?)(?!x:)([A-Za-z]+)", rb"<\1x:\2", xml)
        return xml.replace(b"</worksheet>", b"</x:worksheet>")

    prefixed = rewrite_sheet_xml(table, tmp_path / "prefixed.xlsx", prefix)
    assert b"<x:c r=" in zipfile.ZipFile(prefixed).read("xl/worksheets/sheet1.xml")
    assert _extent(prefixed, exact=False) == [2, 5, 2, 13]


def test_a_styled_empty_cell_far_away_does_not_count(tmp_path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.active.append(["Program ID", "Program Title", "Image URL"])
    book.active.append(["SH1", "T", "https://x/a"])
    book.active["XFD1048576"].font = Font(bold=True)
    path = tmp_path / "styled.xlsx"
    book.save(path)
    assert _extent(path, exact=False) == [1, 2, 1, 3]
    assert [row.program_id for row in open_manifest(path, NBCU).rows()] == ["SH1"]


def test_a_sheet_beyond_the_cell_limit_is_refused(
    table: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Stand-in for a sheet of over 5,000,000 cells, too slow to build in a unit test:
    # the limit is lowered around a small table instead (the real limit meets a
    # value in XFD1048576 in tests/ingestion/manifests/test_reader.py).
    monkeypatch.setattr(preflight, "MAX_SHEET_CELLS", 47)  # the table is 4 x 12 = 48
    with pytest.raises(ManifestError) as caught:
        open_manifest(table, NBCU)
    assert caught.value.kind == NOT_READABLE
    assert "B2:M5" in caught.value.message
    monkeypatch.setattr(preflight, "MAX_SHEET_CELLS", 48)
    assert len(list(open_manifest(table, NBCU).rows())) == 2


def test_a_doctype_is_refused(table: Path, tmp_path: Path) -> None:
    def add_doctype(xml: bytes) -> bytes:
        return xml.replace(
            b"<worksheet", b'<!DOCTYPE x [<!ENTITY a "b">]><worksheet', 1
        )

    doctype = rewrite_sheet_xml(table, tmp_path / "doctype.xlsx", add_doctype)
    with pytest.raises(ManifestError) as caught:
        open_manifest(doctype, NBCU)
    assert caught.value.kind == NOT_READABLE


def test_a_damaged_sheet_part_is_refused(table: Path, tmp_path: Path) -> None:
    broken = rewrite_sheet_xml(table, tmp_path / "broken.xlsx", lambda xml: xml[:-200])
    with pytest.raises(ManifestError) as caught:
        open_manifest(broken, NBCU)
    assert caught.value.kind == NOT_READABLE
