"""axe-core (vendored in tests/ui/vendor) on every view: no serious or critical
violation; a focused control draws its outline."""

from __future__ import annotations

import time

from tests.support.browser import Site, Tab
from tests.support.work_items import add_item


def test_accessibility_of_every_view(browser, site: Site) -> None:
    add_item(site.engine, "SH000000016901", "AXE")  # a provider to list
    tab = Tab(browser, site, axe=True)
    page = tab.page
    page.goto(f"{site.base}/ui/")
    tab.visible("#login-view")
    tab.axe("login")
    tab.log_in(site.admin)
    for view, ready in (
        ("crop", "#provider option"),
        ("review", "#review-reason option"),
        ("dashboard", "#provider-table tbody tr"),
        ("reports", "#report-user option"),
        ("team", "#team-table caption"),
        ("users", "#user-table tbody tr"),
        ("roles", "#role-table tbody tr"),
        ("qa-rules", "#qa-state:not(:empty)"),
    ):
        page.goto(f"{site.base}/ui/#/{view}")
        tab.visible(f"#view-{view}")
        page.wait_for_selector(ready, state="attached")
        time.sleep(0.2)
        tab.axe(view)
        tab.shot(f"view-{view}.png")
    # Visible focus: a focused control draws an outline.
    page.focus("#qa-switch")
    page.keyboard.press("Tab")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(
        "getComputedStyle(document.activeElement).outlineStyle"
    ) not in ("", "none")
    tab.close()
