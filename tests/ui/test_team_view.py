"""The Team view (issue 17): /report/TeamStats per user and day as a table and a small
SVG chart per person, with the dates and provider filters, and `Download XLSX` giving
the same rows; for admin and QA only; axe-core on it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from smartcrop.reporting import TEAM_STATS_HEADER
from tests.support.browser import Site, Tab, finish_programme, qa_decides


def _js(value: Any) -> str:
    """A number as the page writes it (JavaScript's String of a number)."""
    if value is None:
        return "–"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _row_as_shown(row: dict[str, Any]) -> list[str]:
    share = row["SentBackShare"]
    return [
        row["Day"],
        row["UserName"],
        row["RoleName"],
        _js(row["ImagesFinished"]),
        _js(row["RenditionsSaved"]),
        _js(row["MedianSecondsToFinish"]),
        _js(row["P90SecondsToFinish"]),
        _js(row["SentBackOrRejected"]),
        "–" if share is None else f"{_js(round(share * 1000) / 10)} %",
        _js(row["ImagesReviewed"]),
    ]


def _shown(tab: Tab) -> list[list[str]]:
    rows: list[list[str]] = tab.page.evaluate(
        "[...document.querySelectorAll('#team-table tbody tr')]"
        ".map(r => [...r.cells].map(c => c.textContent))"
    )
    return rows


def _as_json(value: Any) -> Any:
    """A workbook cell as the JSON answer has it (the day a date cell)."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if value == "":
        return None
    return value


def test_team_view_shows_and_downloads_the_team_stats(browser, site: Site) -> None:
    olga_id, olga = site.user("operator")
    omar_id, omar = site.user("operator")
    quinn_id, quinn = site.user("qa")
    finish_programme(site, olga, "TEAMA", "SH000000017101", images=3)
    finish_programme(site, olga, "TEAMB", "SH000000017102", images=1)
    finish_programme(site, omar, "TEAMA", "SH000000017103", images=2)
    qa_decides(site, quinn, "SH000000017101", 3)
    qa_decides(site, quinn, "SH000000017103", 1, rejectReasonId=2)

    tab = Tab(browser, site, axe=True)
    page = tab.page
    tab.log_in(quinn)  # QA sees the view too
    assert "Team" in tab.links()
    tab.go("Team")
    assert page.url.endswith("#/team")
    tab.visible("#view-team")
    today = datetime.now(UTC).date()
    first = (today - timedelta(days=2)).isoformat()
    page.fill("#team-from", first)
    page.fill("#team-to", today.isoformat())
    page.get_by_role("button", name="Show").click()
    expected = site.get("/report/TeamStats", fromDate=first, toDate=today.isoformat())
    assert len(expected) == 3  # Olga, Omar, Quinn today
    tab.until(f"document.querySelector('#team-count').textContent === '{3}'")
    assert _shown(tab) == [_row_as_shown(row) for row in expected]
    by_id = {row["UserId"]: row for row in expected}
    assert by_id[olga_id]["ImagesFinished"] == 4
    assert by_id[olga_id]["SentBackShare"] == 0.0
    assert by_id[omar_id]["SentBackShare"] == 1.0
    assert by_id[quinn_id]["ImagesReviewed"] == 5
    names = [by_id[user]["UserName"] for user in (olga_id, omar_id, quinn_id)]
    assert names == sorted(names)  # the charts' order

    # A chart per person, its numbers in its accessible name, one bar per day.
    charts = page.evaluate(
        "[...document.querySelectorAll('#team-charts svg')]"
        ".map(s => [s.getAttribute('role'), s.getAttribute('aria-label'),"
        " s.querySelectorAll('rect').length])"
    )
    day = today.isoformat()
    assert [(role, bars) for role, _, bars in charts] == [("img", 3)] * 3
    labels = [label for _, label, _ in charts]
    earlier = ", ".join(
        f"{today - timedelta(days=n)} 0" for n in (2, 1)
    )  # no work before today: bars of 0
    assert labels == [
        f"{names[0]}: images finished per day, {earlier}, {day} 4 (4 in all)",
        f"{names[1]}: images finished per day, {earlier}, {day} 2 (2 in all)",
        f"{names[2]}: images reviewed per day, {earlier}, {day} 5 (5 in all)",
    ]
    tab.axe("team view")
    tab.shot("team.png")

    # The workbook holds the same rows as the JSON.
    header, *rows = tab.download_xlsx()
    assert tuple(header) == TEAM_STATS_HEADER
    assert [[_as_json(v) for v in row] for row in rows] == [
        list(row.values()) for row in expected
    ]

    # The provider filter: the table, the charts and the workbook follow it.
    page.fill("#team-provider", "teama")
    page.get_by_role("button", name="Show").click()
    narrowed = site.get(
        "/report/TeamStats",
        fromDate=first,
        toDate=today.isoformat(),
        providerName="teama",
    )
    narrowed_olga = next(row for row in narrowed if row["UserId"] == olga_id)
    assert narrowed_olga["ImagesFinished"] == 3  # her TEAMB image left out
    tab.until(
        "[...document.querySelectorAll('#team-table tbody tr')]"
        f".some(r => r.cells[1].textContent === '{names[0]}'"
        " && r.cells[3].textContent === '3')"
    )
    assert _shown(tab) == [_row_as_shown(row) for row in narrowed]
    header, *rows = tab.download_xlsx()
    assert [[_as_json(v) for v in row] for row in rows] == [
        list(row.values()) for row in narrowed
    ]
    # A refusal of the API is shown beside the form, in words.
    page.fill("#team-from", today.isoformat())
    page.fill("#team-to", first)
    page.get_by_role("button", name="Show").click()
    tab.until("document.querySelector('#team-error').textContent.includes('fromDate')")
    tab.close()


def test_the_operator_has_no_team_view(browser, site: Site) -> None:
    _, operator = site.user("operator")
    tab = Tab(browser, site)
    tab.log_in(operator)
    assert "Team" not in tab.links()
    assert tab.page.get_by_role("link", name="Team", exact=True).count() == 0
    tab.page.goto(f"{site.base}/ui/#/team")
    tab.visible("#denied-view")
    assert tab.page.locator("#view-team").is_hidden()
    status = tab.page.evaluate("""async () => {
          const token = JSON.parse(sessionStorage.getItem('smartcrop.session')).token;
          const r = await fetch('/report/TeamStats',
                                {headers: {Authorization: `Bearer ${token}`}});
          return r.status;
        }""")
    assert status == 403
    tab.close()

    tab = Tab(browser, site)
    tab.log_in(site.admin)
    assert "Team" in tab.links()
    tab.close()
