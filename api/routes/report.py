"""Reports `/report` (contract 4.4): qa and admin.

The download is an XLSX attachment: written by openpyxl in write-only mode from a
server-side cursor into a temporary file (an XLSX is a zip, finished only at its end),
then streamed out in chunks and the file removed.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Annotated

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from api.deps import CurrentUser, SessionDep, ensure_self_or_admin, require_roles
from api.envelope import ok, page
from api.query import date_param, int_param, paging, text_param
from smartcrop import reporting

router = APIRouter(prefix="/report", tags=["report"])
ReportDep = Annotated[CurrentUser, require_roles("qa")]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_CHUNK = 256 * 1024
# Small reports stay in memory; bigger ones spill to a temporary file.
_SPOOL_BYTES = 8 * 1024 * 1024


def _filters(
    caller: CurrentUser,
    from_date: str | None,
    to_date: str | None,
    provider_name: str | None,
    user_id: str | None,
) -> reporting.ReportFilters:
    user = int_param(user_id, "userId")
    ensure_self_or_admin(caller, user)
    return reporting.ReportFilters(
        from_date=date_param(from_date, "fromDate"),
        to_date=date_param(to_date, "toDate"),
        provider_name=text_param(provider_name, "providerName"),
        user_id=user,
    )


@router.get("/CroppedImageReport")
def cropped_image_report(
    session: SessionDep,
    caller: ReportDep,
    fromDate: str | None = None,  # the contract's names
    toDate: str | None = None,
    providerName: str | None = None,
    userId: str | None = None,
    pageNumber: str | None = None,
    pageSize: str | None = None,
) -> dict:
    filters = _filters(caller, fromDate, toDate, providerName, userId)
    pages = paging(pageNumber, pageSize)
    items, total = reporting.cropped_image_report(session, filters, pages)
    return ok(page(items, pages.number, pages.size, total))


def _stream(out: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := out.read(_CHUNK):
            yield chunk
    finally:
        out.close()


@router.get(
    "/CroppedImageReportDownLoad",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
            "description": "The report as an XLSX attachment.",
        }
    },
)
def cropped_image_report_download(
    session: SessionDep,
    caller: ReportDep,
    fromDate: str | None = None,
    toDate: str | None = None,
    providerName: str | None = None,
    userId: str | None = None,
) -> StreamingResponse:
    filters = _filters(caller, fromDate, toDate, providerName, userId)
    out = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115
    try:
        reporting.write_cropped_image_report(session, filters, out)
        out.seek(0)
    except BaseException:
        out.close()
        raise
    stamp = datetime.now(UTC).strftime("%Y%m%d_%H%M%S")
    name = f"CroppedImageReport_{stamp}.xlsx"
    return StreamingResponse(
        _stream(out),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
