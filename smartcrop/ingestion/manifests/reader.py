"""Opening a manifest workbook, finding its header row and streaming its rows.

Contract section 5: only the first sheet is read; the header row is the first of the
first ten rows that holds every required header of the layout (cells trimmed, names
case-sensitive); extra columns are ignored and wholly empty rows skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

from python_calamine import CalamineSheet, CalamineWorkbook

from smartcrop.ingestion.manifests.errors import (
    NO_HEADER_ROW,
    NOT_READABLE,
    ManifestError,
)
from smartcrop.ingestion.manifests.layout import Layout
from smartcrop.ingestion.manifests.preflight import check_workbook
from smartcrop.ingestion.manifests.providers import LAYOUTS, ProviderMatch
from smartcrop.ingestion.manifests.rows import (
    PARSED_FIELDS,
    Cell,
    ParsedRow,
    RowRules,
    cell_text,
    unreadable_row,
)

HEADER_SEARCH_ROWS = 10


def _is_library_failure(exc: BaseException) -> bool:
    # A bug inside the Rust library surfaces as pyo3's PanicException, which derives
    # from BaseException; it still means "this file cannot be read", not "stop".
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


class Manifest:
    """One opened manifest: its header row found, its rows read on demand."""

    def __init__(
        self,
        path: Path,
        match: ProviderMatch,
        layout: Layout,
        sheet: CalamineSheet,
        header_row: int,
        headers: tuple[str, ...],
    ) -> None:
        self.path = path
        self.match = match
        self.layout = layout
        self.sheet_name: str = sheet.name
        self.header_row = header_row  # 1-based sheet row
        self.headers = headers  # trimmed, up to the last non-empty header cell
        self._sheet = sheet
        # The first column of each header wins should a header be repeated.
        positions: dict[str, int] = {}
        for index, header in enumerate(headers):
            positions.setdefault(header, index)
        self._rules = RowRules(
            match.provider,
            layout,
            {
                name: positions[header]
                for name, header in layout.columns.items()
                if header in positions
            },
        )

    @property
    def max_rows(self) -> int:
        """The most rows ``records()`` can yield: the sheet's rows below the header."""
        return max(0, self._last_row() - self.header_row)

    def _last_row(self) -> int:
        return (self._sheet.start or (0, 0))[0] + self._sheet.height

    def rows(self) -> Iterator[ParsedRow]:
        """The data rows below the header, one ParsedRow at a time, in sheet order.

        Every call starts again from the top. Cells right of the last header are never
        looked at, so a stray value far to the right neither makes a row non-empty nor
        costs anything.
        """
        for values in self.records():
            yield ParsedRow(*values)

    def records(self) -> Iterator[tuple[Any, ...]]:
        """What ``rows()`` yields, as plain tuples of ParsedRow's values in its field
        order (``PARSED_FIELDS``): the form a COPY takes, with no object per row."""
        provider = self.match.provider
        width = len(self.headers)
        parse = self._rules.parse
        sheet_rows = self._sheet.iter_rows()
        for _ in islice(sheet_rows, self.header_row):
            pass
        # The iterator pads the empty rows above the data, so it ends after this row;
        # the bound only matters should it ever stop advancing after a failed row.
        last_row = self._last_row()
        row_number = self.header_row
        while row_number < last_row:
            row_number += 1
            try:
                cells = next(sheet_rows)
            except StopIteration:
                return
            except BaseException as exc:
                # calamine fails a row whose cell it cannot convert (a duration
                # beyond Python's timedelta) and carries on with the next one.
                if not _is_library_failure(exc):
                    raise
                bad = unreadable_row(row_number, provider)
                yield tuple(getattr(bad, name) for name in PARSED_FIELDS)
                continue
            if _is_blank(cells, width):
                continue
            yield parse(row_number, cells)


def _is_blank(cells: Sequence[Cell], width: int) -> bool:
    """True when no cell up to the last header holds a value (an empty row)."""
    for value in cells[:width]:
        # Most rows end this at their first cell; str is what calamine mostly gives.
        if value.__class__ is str:
            if value and value.replace("\x00", "").strip():
                return False
        elif cell_text(value) is not None:
            return False
    return True


def _header_texts(cells: Sequence[Any]) -> tuple[str, ...]:
    texts = [cell_text(value) or "" for value in cells]
    while texts and not texts[-1]:
        texts.pop()
    return tuple(texts)


def _find_header(
    sheet: CalamineSheet, layout: Layout, name: str
) -> tuple[int, tuple[str, ...]]:
    required = set(layout.required)
    best: tuple[int, set[str], tuple[str, ...]] | None = None
    rows = sheet.iter_rows()
    for row_number in range(1, HEADER_SEARCH_ROWS + 1):
        try:
            cells = next(rows)
        except StopIteration:
            break
        except BaseException as exc:
            if not _is_library_failure(exc):
                raise
            continue  # an unreadable row is not the header row
        texts = _header_texts(cells)
        found = required.intersection(texts)
        if found == required:
            return row_number, texts
        if found and (best is None or len(found) > len(best[1])):
            best = (row_number, found, texts)
    raise ManifestError(NO_HEADER_ROW, _no_header_message(layout, name, sheet, best))


def _no_header_message(
    layout: Layout,
    name: str,
    sheet: CalamineSheet,
    best: tuple[int, set[str], tuple[str, ...]] | None,
) -> str:
    if sheet.start is None:
        return f"{name}: the first sheet ({sheet.name!r}) is empty"
    intro = (
        f"{name}: none of the first {HEADER_SEARCH_ROWS} rows of sheet {sheet.name!r} "
        f"holds every required {layout.name} header"
    )
    if best is None:
        return f"{intro}; missing: {', '.join(layout.required)}"
    row_number, found, texts = best
    missing = [header for header in layout.required if header not in found]
    message = f"{intro}; row {row_number} comes closest, missing: {', '.join(missing)}"
    # Headers are case-sensitive; say so when a near miss is what stands in the way.
    folded = {text.casefold(): text for text in texts}
    near = [f"{folded[h.casefold()]!r}" for h in missing if h.casefold() in folded]
    if near:
        message += f" (found {', '.join(near)}: headers are case-sensitive)"
    return message


def open_manifest(path: str | os.PathLike[str], match: ProviderMatch) -> Manifest:
    """Open a manifest for the layout of ``match`` and find its header row.

    Raises ManifestError "not a readable workbook" or "no header row"; file-system
    errors (a missing file, no permission) are not the file's fault and propagate.
    """
    path = Path(path)
    layout = LAYOUTS[match.layout]
    check_workbook(path)
    try:
        with path.open("rb") as stream, CalamineWorkbook.from_filelike(stream) as book:
            if not book.sheet_names:
                raise ManifestError(NOT_READABLE, f"{path.name}: it has no sheets")
            # The sheet's cells now live in memory; the file can be closed.
            sheet = book.get_sheet_by_index(0)
    except (ManifestError, OSError):
        raise
    except BaseException as exc:
        if not _is_library_failure(exc):
            raise
        raise ManifestError(
            NOT_READABLE, f"{path.name}: it is not a readable .xlsx workbook ({exc})"
        ) from exc
    header_row, headers = _find_header(sheet, layout, path.name)
    return Manifest(path, match, layout, sheet, header_row, headers)
