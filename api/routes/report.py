"""Reports `/report` (contract 4.4, and TeamStats): qa and admin.

The download is an XLSX attachment streamed as it is written: the rows come from a
server-side cursor and leave as zip chunks (smartcrop/reporting/xlsx_stream.py), so the
first bytes go out at once and memory does not grow with the report. The filters and the
caller's rights are checked before the 200 starts; an error after it (the database
gone mid-way) cuts the transfer short, which the client sees as an incomplete
download, never as a complete workbook.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from api.deps import CurrentUser, SessionDep, ensure_self_or_admin, require_roles
from api.envelope import JsonObject, ok, page
from api.query import date_param, int_param, paging, text_param
from api.schemas.report import ReportEnvelope, TeamStatsEnvelope
from smartcrop import reporting

router = APIRouter(prefix="/report", tags=["report"])
ReportDep = Annotated[CurrentUser, require_roles("qa")]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filters(
    caller: CurrentUser,
    from_date: str | None,
    to_date: str | None,
    provider_name: str | None,
    user_id: str | None,
    status: str | None,
) -> reporting.ReportFilters:
    user = int_param(user_id, "userId")
    ensure_self_or_admin(caller, user)
    return reporting.ReportFilters(
        from_date=date_param(from_date, "fromDate"),
        to_date=date_param(to_date, "toDate"),
        provider_name=text_param(provider_name, "providerName"),
        user_id=user,
        status=int_param(status, "status"),
    )


@router.get("/CroppedImageReport", response_model=ReportEnvelope)
def cropped_image_report(
    session: SessionDep,
    caller: ReportDep,
    fromDate: str | None = None,  # the contract's names
    toDate: str | None = None,
    providerName: str | None = None,
    userId: str | None = None,
    pageNumber: str | None = None,
    pageSize: str | None = None,
    status: str | None = None,  # beyond the contract: the work item's status, 1..4
) -> JsonObject:
    filters = _filters(caller, fromDate, toDate, providerName, userId, status)
    pages = paging(pageNumber, pageSize)
    items, total = reporting.cropped_image_report(session, filters, pages)
    return ok(page(items, pages.number, pages.size, total))


async def _in_threadpool(chunks: Generator[bytes, None, None]) -> AsyncIterator[bytes]:
    """Each chunk made in the thread pool (it reads the database), and the generator
    closed there too: on a client that hangs up mid-way as much as at the end, so its
    cursor and session are released at once."""
    try:
        async for chunk in iterate_in_threadpool(chunks):
            yield chunk
    finally:
        await run_in_threadpool(chunks.close)


XLSX_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
        "description": "The report as an XLSX attachment.",
    }
}


def _download(chunks: Generator[bytes, None, None], prefix: str) -> StreamingResponse:
    stamp = datetime.now(UTC).strftime("%Y%m%d_%H%M%S")
    return StreamingResponse(
        _in_threadpool(chunks),
        media_type=XLSX,
        headers={
            "Content-Disposition": f'attachment; filename="{prefix}_{stamp}.xlsx"'
        },
    )


@router.get(
    "/CroppedImageReportDownLoad",
    response_class=StreamingResponse,
    responses=XLSX_ANSWER,
)
def cropped_image_report_download(
    request: Request,
    caller: ReportDep,
    fromDate: str | None = None,
    toDate: str | None = None,
    providerName: str | None = None,
    userId: str | None = None,
    status: str | None = None,
) -> StreamingResponse:
    filters = _filters(caller, fromDate, toDate, providerName, userId, status)
    chunks = reporting.cropped_image_report_xlsx(
        request.app.state.sessionmaker, filters
    )
    return _download(chunks, "CroppedImageReport")


def _team_filters(
    from_date: str | None, to_date: str | None, provider_name: str | None
) -> reporting.TeamStatsFilters:
    return reporting.TeamStatsFilters(
        from_date=date_param(from_date, "fromDate"),
        to_date=date_param(to_date, "toDate"),
        provider_name=text_param(provider_name, "providerName"),
    )


@router.get("/TeamStats", response_model=TeamStatsEnvelope)
def team_stats(
    session: SessionDep,
    caller: ReportDep,
    fromDate: str | None = None,
    toDate: str | None = None,
    providerName: str | None = None,
) -> JsonObject:
    filters = _team_filters(fromDate, toDate, providerName)
    return ok(reporting.team_stats(session, filters))


@router.get(
    "/TeamStats/Download", response_class=StreamingResponse, responses=XLSX_ANSWER
)
def team_stats_download(
    request: Request,
    caller: ReportDep,
    fromDate: str | None = None,
    toDate: str | None = None,
    providerName: str | None = None,
) -> StreamingResponse:
    filters = _team_filters(fromDate, toDate, providerName)
    chunks = reporting.team_stats_xlsx(request.app.state.sessionmaker, filters)
    return _download(chunks, "TeamStats")
