"""The cropped-image report (contract 4.4): pages and the streamed XLSX.

The SQL lives in the database (``view_smartcrop_total``,
``view_smartcrop_providerlist_total``, ``fncroppedimagereports``; migrations 0002 and
0004) so that the dumps and any SQL client see the same numbers; this module reads
them, pages them and writes the report's XLSX. The dashboard views and the report's
sizes read counts that every write keeps in its own transaction (migration 0004), so
none of them grows with the tables.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import UTC, date
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from smartcrop.errors import InvalidInput
from smartcrop.reporting import xlsx_stream
from smartcrop.reporting.paging import Paging

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
REPORT_SHEET = "CroppedImageReport"

# The work item's status a report may be filtered on (beyond the contract).
REPORT_STATUSES = {1: "cropping", 2: "QA", 3: "completed", 4: "rejected"}
# How long the count and the page of a status-filtered report may take: they read
# every rendition under the other filters, which the day summaries cannot count.
FILTERED_TIMEOUT_MS = 30_000


@dataclass(frozen=True)
class ReportFilters:
    from_date: date | None = None
    to_date: date | None = None
    provider_name: str | None = None
    user_id: int | None = None
    status: int | None = None  # the work item's status now (beyond the contract)

    def __post_init__(self) -> None:
        if self.from_date and self.to_date and self.from_date > self.to_date:
            raise InvalidInput("fromDate must not be after toDate")
        if self.status is not None and self.status not in REPORT_STATUSES:
            allowed = ", ".join(f"{n} ({w})" for n, w in REPORT_STATUSES.items())
            raise InvalidInput(f"status must be one of {allowed}, not {self.status}")

    def params(self) -> dict[str, Any]:
        return {
            "from_date": self.from_date,
            "to_date": self.to_date,
            "provider": (self.provider_name or "").strip() or None,
            "user_id": self.user_id,
            "status": self.status,
        }


_REPORT_FROM = (
    "FROM fncroppedimagereports(CAST(:from_date AS date), CAST(:to_date AS date),"
    " CAST(:provider AS text), CAST(:user_id AS integer))"
)
# The status filter, outside the function (whose signature is the legacy one); the
# planner pushes it into the function's inlined query.
_STATUS_WHERE = " WHERE status = CAST(:status AS smallint)"


def _report_from(params: dict[str, Any]) -> str:
    return _REPORT_FROM + (_STATUS_WHERE if params["status"] is not None else "")


# The report's filters on its day summaries (migration 0004): renditions per UTC day
# of their last save and provider, and the same per user who cropped or reviewed them
# (the report's user filter). Only the filters given are written, so the planner sees
# no "parameter IS NULL OR ..." it cannot narrow.
_DAY_FILTERS = {
    "from_date": "day >= :from_date",
    "to_date": "day <= :to_date",
    "provider": "lower(providername) = lower(:provider)",
    "user_id": "userid = :user_id",
}


def _plan_for_these_values(session: Session) -> None:
    # psycopg prepares a statement from its fifth run on a connection, and PostgreSQL
    # then tries a generic plan, in which the function's "p IS NULL OR ..." filters
    # cannot use an index (a 7-day page went from 0.2 ms to 4.4 s at 3M work items).
    # For the rest of this transaction, plan each run for the values it has.
    session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def _report_item(row: Any) -> dict[str, Any]:
    item = {name: row[column] for name, column in REPORT_FIELDS}
    for name in ("CroppedAt", "ReviewedAt"):
        if item[name] is not None:
            item[name] = item[name].astimezone(UTC).isoformat()
    return item


@dataclass(frozen=True)
class _PageDays:
    total: int  # rows under the filters
    first: date | None  # the day the page's first row was saved on (None: past end)
    last: date | None  # the day its last row was saved on (None: the report's end)
    before: int  # rows on days before ``first``


def _day_filters(params: dict[str, Any]) -> tuple[str, str]:
    """The day-summary table for these filters and its WHERE clause."""
    given = [clause for key, clause in _DAY_FILTERS.items() if params[key] is not None]
    where = f"WHERE {' AND '.join(given)}" if given else ""
    table = (
        "smartcrop_report_user_days"
        if params["user_id"] is not None
        else "smartcrop_report_days"
    )
    return table, where


def _page_days(session: Session, params: dict[str, Any], paging: Paging) -> _PageDays:
    """Where a page lies, from the day summaries alone.

    Report rows are ordered by their save time first, so every row of a day before
    ``first`` comes before the page and every row of a day after ``last`` after it:
    the page is read between those days, skipping only the rows before it on
    ``first``, however deep it is. The bounds also tell the planner how few rows
    the range holds, so it walks the save-time index instead of, say, every work
    item of the user filtered on.
    """
    table, where = _day_filters(params)
    row = session.execute(
        text(f"""
            WITH days AS (
              SELECT day, sum(renditions) AS n FROM {table} {where}
              GROUP BY day
            ), running AS (
              SELECT day, n, sum(n) OVER (ORDER BY day) AS upto FROM days
            )
            SELECT (SELECT coalesce(sum(n), 0) FROM days) AS total,
                   first.day AS first, last.day AS last,
                   first.upto - first.n AS before
            FROM (SELECT 1) one
            LEFT JOIN LATERAL (
              SELECT day, n, upto FROM running WHERE upto > :offset
              ORDER BY day LIMIT 1
            ) first ON true
            LEFT JOIN LATERAL (
              SELECT day FROM running WHERE upto >= :offset + :size
              ORDER BY day LIMIT 1
            ) last ON true
            """),  # noqa: S608 - only fixed clauses are joined in
        {**params, "offset": paging.offset, "size": paging.size},
    ).one()
    return _PageDays(int(row.total), row.first, row.last, int(row.before or 0))


@dataclass(frozen=True)
class PageQuery:
    """The statement that reads one page's rows, with its parameters."""

    total: int
    sql: str | None  # None: the page lies past the end
    params: dict[str, Any]


def _filtered_page_query(
    session: Session, params: dict[str, Any], paging: Paging
) -> PageQuery:
    """A status-filtered page: counted and read from the renditions themselves.

    The day summaries count renditions whatever their work item's status (a QA
    decision changes the status, not the rendition), so they cannot place the page;
    they still bound the read to the days that hold rows under the other filters,
    and answer at once when none does. The count then reads those rows once (an
    aggregate, nothing kept) and the page walks them in report order up to its end;
    both under ``FILTERED_TIMEOUT_MS``, past which the request is refused (400)
    asking for a narrower range rather than holding a connection for minutes.
    """
    table, where = _day_filters(params)
    span = session.execute(
        text(
            f"SELECT min(day) AS first, max(day) AS last FROM {table}"  # noqa: S608
            f" {where} {'AND' if where else 'WHERE'} renditions > 0"
        ),
        params,
    ).one()
    if span.first is None:
        return PageQuery(0, None, {})
    narrowed = {**params, "from_date": span.first, "to_date": span.last}
    session.execute(text(f"SET LOCAL statement_timeout = {FILTERED_TIMEOUT_MS}"))
    try:
        total = int(
            session.execute(
                text(f"SELECT count(*) {_report_from(params)}"),  # noqa: S608
                narrowed,
            ).scalar_one()
        )
    except OperationalError as error:
        raise _too_long(error) from None
    if paging.offset >= total:
        return PageQuery(total, None, {})
    return PageQuery(
        total,
        f"SELECT * {_report_from(params)} OFFSET :skip LIMIT :limit",  # noqa: S608
        {**narrowed, "skip": paging.offset, "limit": paging.size},
    )


def _too_long(error: OperationalError) -> Exception:
    if getattr(error.orig, "sqlstate", None) != "57014":  # query_canceled
        return error
    return InvalidInput(
        f"the report filtered by status took longer than "
        f"{FILTERED_TIMEOUT_MS // 1000} s to count; narrow it with dates, a "
        "provider or a user"
    )


def report_page_query(
    session: Session, filters: ReportFilters, paging: Paging
) -> PageQuery:
    """Where the page lies (from the day summaries) and the statement reading it."""
    params = filters.params()
    _plan_for_these_values(session)
    if params["status"] is not None:
        return _filtered_page_query(session, params, paging)
    days = _page_days(session, params, paging)
    if days.first is None:
        return PageQuery(days.total, None, {})
    return PageQuery(
        days.total,
        f"SELECT * {_REPORT_FROM} OFFSET :skip LIMIT :limit",  # noqa: S608
        {
            **params,
            "from_date": days.first,
            "to_date": days.last or params["to_date"],
            "skip": paging.offset - days.before,
            "limit": paging.size,
        },
    )


def cropped_image_report(
    session: Session, filters: ReportFilters, paging: Paging
) -> tuple[list[dict[str, Any]], int]:
    """One page of the report and the exact number of its rows.

    The count comes from the day summaries, and the page is read between the days
    it starts and ends on, so neither reads the renditions before the page.
    """
    page = report_page_query(session, filters, paging)
    if page.sql is None:
        return [], page.total
    try:
        rows = session.execute(text(page.sql), page.params).mappings().all()
    except OperationalError as error:
        raise _too_long(error) from None
    return [_report_item(row) for row in rows], page.total


def explain_report_page(
    session: Session, filters: ReportFilters, paging: Paging
) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the page's statement, planned as it is run:
    what the scale benchmark records for a page that grew with the tables."""
    page = report_page_query(session, filters, paging)
    if page.sql is None:
        return "(past the end: no statement)"
    plan = session.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {page.sql}"), page.params)
    return "\n".join(str(row[0]) for row in plan)


def iter_cropped_image_report(
    session: Session, filters: ReportFilters, *, batch: int = 1000
) -> Generator[tuple[Any, ...], None, None]:
    """Every matching row, in contract column order, read by a server-side cursor."""
    columns = ", ".join(column for _, column in REPORT_FIELDS)
    _plan_for_these_values(session)
    params = filters.params()
    result = session.execute(
        text(f"SELECT {columns} {_report_from(params)}"),  # noqa: S608
        params,
        execution_options={"stream_results": True, "yield_per": batch},
    )
    try:
        yield from (tuple(row) for row in result)
    finally:
        result.close()


def cropped_image_report_xlsx(
    sessions: Callable[[], Session], filters: ReportFilters
) -> Generator[bytes, None, None]:
    """The report as XLSX bytes, produced while the rows are read.

    The generator owns its session (opened at the first chunk, closed when it is
    exhausted or closed), since it outlives the request's own: the first bytes leave
    before the last row is read, and memory stays that of one chunk and one batch of
    rows whatever the report's size.
    """
    with sessions() as session:
        rows = iter_cropped_image_report(session, filters)
        try:
            yield from xlsx_stream.stream_xlsx(REPORT_SHEET, REPORT_HEADER, rows)
        finally:
            rows.close()


# The lookups as the frontend lists them: (table, JSON name of the text column).
