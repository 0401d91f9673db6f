"""The Reports view (issue 16): the cropped-image report with its filters, the status
filter included (beyond the contract), and `Download XLSX` giving exactly the rows the
API gives for the same filters."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

from tests.api.workflow_support import rendition
from tests.support.browser import Site, Tab, cell
from tests.workflow.factory import add_item


def _crop(site: Site, operator: int, email: str, provider: str, program: str) -> None:
    images = [add_item(site.engine, program, provider) for _ in range(2)]
    auth = site.auth(email)
    claimed = site.http.get(
        "/image/GetImageInfo",
        params={"providerName": provider, "user": operator},
        headers=auth,
    )
    assert claimed.json()["Data"]["ProgramId"] == program
    saved = site.http.post(
        "/image/SaveCropedImages",
        headers=auth,
        json={
            "ProgramId": program,
            "UserId": operator,
            "Images": [
                {
                    "ImageId": image,
                    "Status": 2,
                    "Renditions": [rendition(1, 160, 90), rendition(5, 90, 90)],
                }
                for image in images
            ],
        },
    )
    assert saved.status_code == 200, saved.text


def _download(tab: Tab) -> list[list[Any]]:
    with tab.page.expect_download() as info:
        tab.page.get_by_role("button", name="Download XLSX").click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    workbook = CalamineWorkbook.from_filelike(
        io.BytesIO(Path(download.path()).read_bytes())
    )
    rows: list[list[Any]] = workbook.get_sheet_by_index(0).to_python()
    return rows


def _same_rows(rows: list[list[Any]], items: list[dict[str, Any]]) -> None:
    header, *body = rows
    assert header == list(items[0])
    assert [[cell(v) for v in row] for row in body] == [
        [cell(v) for v in item.values()] for item in items
    ]


def test_reports_view_downloads_the_filtered_rows(browser, site: Site) -> None:
    operator, email = site.user("operator")
    for provider, program in (
        ("REPA", "SH000000016301"),
        ("REPB", "SH000000016302"),
        ("REPA", "SH000000016303"),
    ):
        _crop(site, operator, email, provider, program)
    # QA approves one programme of REPA: its rows are status 3, the others 2.
    qa, qa_email = site.user("qa")
    qa_auth = site.auth(qa_email)
    for path, params in (
        ("/image/GetCroppedImageInfo", {"programId": "SH000000016303", "user": qa}),
        (
            "/image/UpdateStatus",
            {"programId": "SH000000016303", "status": 3, "currentState": 0},
        ),
    ):
        answer = site.http.get(path, params=params, headers=qa_auth)
        assert answer.status_code == 200, answer.text

    tab = Tab(browser, site)
    page = tab.page
    tab.log_in(site.admin)
    tab.go("Reports")
    assert page.url.endswith("#/reports")
    today = date.today().isoformat()
    page.fill("#report-from", today)
    page.fill("#report-to", today)
    page.fill("#report-provider", "REPA")
    page.select_option("#report-user", str(operator))
    page.get_by_role("button", name="Show").click()
    filters = {
        "fromDate": today,
        "toDate": today,
        "providerName": "REPA",
        "userId": operator,
    }
    expected = site.get("/report/CroppedImageReport", pageSize=500, **filters)
    assert expected["TotalCount"] == 8
    tab.until("document.querySelector('#report-count').textContent === '8'")
    tab.until("document.querySelector('#report-table tbody').rows.length === 8")
    tab.shot("reports.png")
    _same_rows(_download(tab), expected["Items"])

    # The status filter: the table and the workbook hold exactly the API's rows.
    page.select_option("#report-status", "2")
    page.get_by_role("button", name="Show").click()
    filtered = site.get("/report/CroppedImageReport", pageSize=500, status=2, **filters)
    assert filtered["TotalCount"] == 4
    assert {item["Status"] for item in filtered["Items"]} == {2}
    tab.until("document.querySelector('#report-count').textContent === '4'")
    shown = page.evaluate(
        "[...document.querySelectorAll('#report-table tbody tr')]"
        ".map(r => [r.cells[0].textContent, Number(r.cells[3].textContent),"
        " r.cells[5].textContent])"
    )
    assert shown == [
        [item["ProgramId"], item["ImageId"], "2: QA"] for item in filtered["Items"]
    ]
    _same_rows(_download(tab), filtered["Items"])

    page.fill("#report-provider", "")
    page.select_option("#report-user", "")
    page.select_option("#report-status", "3")
    page.get_by_role("button", name="Show").click()
    completed = site.get(
        "/report/CroppedImageReport",
        pageSize=500,
        status=3,
        fromDate=today,
        toDate=today,
    )
    assert completed["TotalCount"] == 4
    tab.until("document.querySelector('#report-count').textContent === '4'")
    tab.until(
        "[...document.querySelectorAll('#report-table tbody tr')]"
        ".every(r => r.cells[0].textContent === 'SH000000016303')"
    )
    _same_rows(_download(tab), completed["Items"])
    tab.close()
