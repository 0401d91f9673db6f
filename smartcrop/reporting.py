"""Dashboard numbers and the cropped-image report (contract 4.2 and 4.4).

The SQL lives in the database (``view_smartcrop_total``,
``view_smartcrop_providerlist_total``, ``fncroppedimagereports``; migration 0002) so
that the dumps and any SQL client see the same numbers; this module reads them, pages
them and writes the report's XLSX.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from sqlalchemy import text
from sqlalchemy.orm import Session

from smartcrop.errors import InvalidInput
from smartcrop.workflow.cache import TtlCache

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 500

TOTAL_FIELDS = (
    ("TotalImages", "totalimages"),
    ("PendingOperator", "pendingoperator"),
    ("PendingQA", "pendingqa"),
    ("Completed", "completed"),
    ("Rejected", "rejected"),
    ("Locked", "locked"),
    ("Exported", "exported"),
)

PROVIDER_FIELDS = (
    ("ProviderName", "providername"),
    ("TotalImages", "totalimages"),
    ("PendingOperator", "pendingoperator"),
    ("PendingQA", "pendingqa"),
    ("Completed", "completed"),
    ("Rejected", "rejected"),
)

# Contract name -> column of fncroppedimagereports, in the contract's order.
REPORT_FIELDS = (
    ("ProgramId", "programid"),
    ("ProviderName", "providername"),
    ("ProgramTitle", "programtitle"),
    ("ImageId", "imageid"),
    ("AspectRatio", "aspectratio"),
    ("Status", "status"),
    ("CroppedBy", "croppedby"),
    ("CroppedAt", "croppedat"),
    ("ReviewedBy", "reviewedby"),
    ("ReviewedAt", "reviewedat"),
    ("OutputFileName", "outputfilename"),
)
REPORT_HEADER = tuple(name for name, _ in REPORT_FIELDS)


@dataclass(frozen=True)
class Paging:
    number: int = 1
    size: int = DEFAULT_PAGE_SIZE

    def __post_init__(self) -> None:
        if self.number < 1:
            raise InvalidInput("pageNumber must be 1 or more")
        if not 1 <= self.size <= MAX_PAGE_SIZE:
            raise InvalidInput(f"pageSize must be between 1 and {MAX_PAGE_SIZE}")

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


@dataclass(frozen=True)
class ReportFilters:
    from_date: date | None = None
    to_date: date | None = None
    provider_name: str | None = None
    user_id: int | None = None

    def __post_init__(self) -> None:
        if self.from_date and self.to_date and self.from_date > self.to_date:
            raise InvalidInput("fromDate must not be after toDate")

    def params(self) -> dict[str, Any]:
        return {
            "from_date": self.from_date,
            "to_date": self.to_date,
            "provider": (self.provider_name or "").strip() or None,
            "user_id": self.user_id,
        }


def totals(session: Session) -> dict[str, int]:
    """The dashboard totals, counted now (a full scan of the work items)."""
    row = session.execute(text("SELECT * FROM view_smartcrop_total")).mappings().one()
    return {name: int(row[column]) for name, column in TOTAL_FIELDS}


# view_smartcrop_total counts every work item (35-50 ms at 100,000 of them, growing
# with the table), and a dashboard polls it: per process, the counts are kept this
# long and then counted again, once, whoever asks (TtlCache is single-flight).
TOTALS_MAX_AGE_SECONDS = 2.0
_totals_cache: TtlCache[dict[str, int]] = TtlCache(TOTALS_MAX_AGE_SECONDS)


def cached_totals(session: Session) -> dict[str, int]:
    """:func:`totals`, at most TOTALS_MAX_AGE_SECONDS old (per process, database)."""
    return dict(_totals_cache.get(session, totals))


def provider_list(session: Session, paging: Paging) -> tuple[list[dict], int]:
    total = session.scalar(
        text("SELECT count(*) FROM view_smartcrop_providerlist_total")
    )
    rows = session.execute(
        text(
            "SELECT * FROM view_smartcrop_providerlist_total"
            " ORDER BY providername LIMIT :limit OFFSET :offset"
        ),
        {"limit": paging.size, "offset": paging.offset},
    ).mappings()
    items = [{name: row[column] for name, column in PROVIDER_FIELDS} for row in rows]
    return items, int(total or 0)


_REPORT_FROM = (
    "FROM fncroppedimagereports(CAST(:from_date AS date), CAST(:to_date AS date),"
    " CAST(:provider AS text), CAST(:user_id AS integer))"
)


def _report_item(row: Any) -> dict[str, Any]:
    item = {name: row[column] for name, column in REPORT_FIELDS}
    for name in ("CroppedAt", "ReviewedAt"):
        if item[name] is not None:
            item[name] = item[name].astimezone(UTC).isoformat()
    return item


def cropped_image_report(
    session: Session, filters: ReportFilters, paging: Paging
) -> tuple[list[dict], int]:
    params = filters.params()
    total = session.scalar(
        text(f"SELECT count(*) {_REPORT_FROM}"), params
    )  # noqa: S608
    rows = session.execute(
        text(f"SELECT * {_REPORT_FROM} LIMIT :limit OFFSET :offset"),  # noqa: S608
        {**params, "limit": paging.size, "offset": paging.offset},
    ).mappings()
    return [_report_item(row) for row in rows], int(total or 0)


def iter_cropped_image_report(
    session: Session, filters: ReportFilters, *, batch: int = 1000
) -> Iterator[tuple[Any, ...]]:
    """Every matching row, in contract column order, read by a server-side cursor."""
    columns = ", ".join(column for _, column in REPORT_FIELDS)
    result = session.execute(
        text(f"SELECT {columns} {_REPORT_FROM}"),  # noqa: S608
        filters.params(),
        execution_options={"stream_results": True, "yield_per": batch},
    )
    try:
        yield from (tuple(row) for row in result)
    finally:
        result.close()


def _cell(sheet: Any, value: Any) -> Any:
    # Excel has no time zones: timestamps are written as naive UTC.
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, str) and value.startswith("="):
        # openpyxl stores text starting with "=" as a formula, which Excel would run
        # (=HYPERLINK(...) in a provider's title): keep it a text cell.
        cell = WriteOnlyCell(sheet, value)
        cell.data_type = "s"
        return cell
    return value


def write_cropped_image_report(
    session: Session, filters: ReportFilters, out: IO[bytes]
) -> int:
    """Write the report as XLSX to ``out``; returns the number of data rows.

    openpyxl's write-only mode keeps one row in memory at a time, and the rows come
    from a server-side cursor, so the report's size is bounded by the disk only.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("CroppedImageReport")
    sheet.append(list(REPORT_HEADER))
    count = 0
    for row in iter_cropped_image_report(session, filters):
        sheet.append([_cell(sheet, value) for value in row])
        count += 1
    workbook.save(out)
    return count


# The lookups as the frontend lists them: (table, JSON name of the text column).
LOOKUPS: dict[str, tuple[str, str, str]] = {
    "image_type": ("smartcrop_imagetype_lookup", "title", "Title"),
    "image_language": ("smartcrop_imagelanguage_lookup", "title", "Title"),
    "reject_reason": ("smartcrop_rejectreason_lookup", "reason", "Reason"),
    "aspect_ratio": ("smartcrop_aspectratio_lookup", "title", "Title"),
}


def lookup_rows(session: Session, kind: str) -> list[dict[str, Any]]:
    """One lookup table's rows as ``{"Id", "Title"|"Reason"}``, ordered by id.

    Read from the database, not the seed constants: the rows there are what the
    foreign keys accept.
    """
    table, column, name = LOOKUPS[kind]
    rows = session.execute(
        text(f"SELECT id, {column} FROM {table} ORDER BY id")  # noqa: S608
    )
    return [{"Id": row[0], name: row[1]} for row in rows]
