"""The XLSX download streams (over real HTTP): its first bytes reach the client while
the server is still reading the report, and a download given up mid-way hands its
database connection back at once."""

from __future__ import annotations

import asyncio
import io
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from python_calamine import CalamineWorkbook
from sqlalchemy import event

from api.routes.report import _in_threadpool
from bench.scale.data import fill
from smartcrop import reporting

ITEMS = 5000  # about 24,000 report rows over a year: a workbook of a few megabytes


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def filled(db_url: str, make_user) -> None:
    operators = [make_user("operator")[0] for _ in range(3)]
    reviewers = [make_user("qa")[0] for _ in range(2)]
    fill(db_url, ITEMS, 7, operators, reviewers)


@pytest.fixture
def live_api(api_app) -> Iterator[str]:
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(api_app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_the_first_bytes_arrive_while_the_report_is_still_read(
    api_app, live_api: str, filled: None, make_user
) -> None:
    _, email, password = make_user("admin")
    checkins: list[float] = []
    event.listen(
        api_app.state.engine, "checkin", lambda *_: checkins.append(time.monotonic())
    )
    with httpx.Client(base_url=live_api, timeout=120) as http:
        login = http.post("/user/Login", json={"EmailID": email, "Password": password})
        auth = {"Authorization": f"Bearer {login.json()['Data']['Token']}"}
        total = http.get("/report/CroppedImageReport", headers=auth).json()["Data"]
        checkins.clear()
        body = bytearray()
        first_chunk_at = None
        with http.stream(
            "GET", "/report/CroppedImageReportDownLoad", headers=auth
        ) as response:
            assert response.status_code == 200
            assert "content-length" not in response.headers  # sent as it is written
            assert response.headers["content-disposition"].startswith("attachment;")
            for chunk in response.iter_bytes():
                if first_chunk_at is None:
                    first_chunk_at = time.monotonic()
                body.extend(chunk)
    # The download's own session went back to the pool only after the client already
    # had bytes: the workbook was not finished first and sent afterwards.
    assert first_chunk_at is not None and checkins
    assert max(checkins) > first_chunk_at
    book = CalamineWorkbook.from_filelike(io.BytesIO(bytes(body)))
    sheet = book.get_sheet_by_index(0)
    assert len(sheet.to_python()) - 1 == total["TotalCount"] > 20_000


def test_a_download_given_up_mid_way_gives_its_connection_back(
    api_app, filled: None
) -> None:
    pool = api_app.state.engine.pool
    chunks = reporting.cropped_image_report_xlsx(
        api_app.state.sessionmaker, reporting.ReportFilters()
    )

    async def read_into_the_sheet_then_hang_up() -> int:
        stream = _in_threadpool(chunks)
        # The workbook's small parts come first; the sheet's rows (and so the
        # database) only from its first full-sized chunk on.
        while len(await anext(stream)) < 64 * 1024:
            pass
        held = pool.checkedout()
        await stream.aclose()  # what the server does when the client goes away
        return held

    assert asyncio.run(read_into_the_sheet_then_hang_up()) == 1
    assert pool.checkedout() == 0
