"""The Dashboard view (issue 16): the API's numbers, paged as the API pages them,
refreshed every 30 s (the page's clock moved, not slept)."""

from __future__ import annotations

from tests.support.browser import Site, Tab
from tests.support.work_items import add_item


def test_dashboard_view_shows_the_api_numbers(browser, site: Site) -> None:
    for n in range(23):  # more providers than one page of 20
        add_item(site.engine, f"SH0000000162{n:02d}", f"DASH{n:02d}")
    tab = Tab(browser, site)
    page = tab.page
    page.clock.install()
    tab.log_in(site.admin, view="dashboard")
    tab.until("document.querySelector('#provider-table tbody').rows.length > 0")

    def shown_totals() -> dict[str, int]:
        return page.evaluate(
            "Object.fromEntries([...document.querySelectorAll('#totals dd')]"
            ".map(d => [d.dataset.total, Number(d.textContent)]))"
        )

    def shown_rows() -> list[list[str]]:
        return page.evaluate(
            "[...document.querySelectorAll('#provider-table tbody tr')]"
            ".map(r => [...r.cells].map(c => c.textContent))"
        )

    def api_rows(number: int) -> list[list[str]]:
        items = site.get("/dashboard/ProviderList", pageNumber=number)["Items"]
        keys = ["ProviderName", "TotalImages", "PendingOperator", "PendingQA"]
        keys += ["Completed", "Rejected"]
        return [[str(item[k]) for k in keys] for item in items]

    assert shown_totals() == site.get("/dashboard/Totals")
    assert shown_rows() == api_rows(1)
    tab.shot("dashboard.png")
    page.get_by_role("button", name="Next page").click()
    tab.until("document.querySelector('#provider-pager').textContent.includes('2 of')")
    assert shown_rows() == api_rows(2)

    # Refreshed every 30 s while visible.
    before = shown_totals()["TotalImages"]
    add_item(site.engine, "SH000000016299", "DASH00")
    page.clock.run_for(31_000)
    tab.until(
        "Number(document.querySelector('[data-total=TotalImages]').textContent)"
        f" === {before + 1}"
    )
    assert shown_totals() == site.get("/dashboard/Totals")
    tab.close()
