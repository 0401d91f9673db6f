"""The Reports view (issue 16): the cropped-image report with its filters, the status
filter included (beyond the contract), and `Download XLSX` giving exactly the rows the
API gives for the same filters."""

from __future__ import annotations

from datetime import date
from typing import Any

from tests.support.browser import Site, Tab, cell, finish_programme, qa_decides


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
        finish_programme(site, email, provider, program)
    # QA approves one programme of REPA: its rows are status 3, the others 2.
    _, qa_email = site.user("qa")
    qa_decides(site, qa_email, "SH000000016303", 3)

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
    _same_rows(tab.download_xlsx(), expected["Items"])

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
    _same_rows(tab.download_xlsx(), filtered["Items"])

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
    _same_rows(tab.download_xlsx(), completed["Items"])
    tab.close()
