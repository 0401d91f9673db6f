"""The QA rules and Roles views (issue 16), checked through the API."""

from __future__ import annotations

from tests.support.browser import Site, Tab


def test_qa_rules_and_roles_views(browser, site: Site) -> None:
    tab = Tab(browser, site)
    page = tab.page
    tab.log_in(site.admin)
    tab.go("QA rules")
    switch = page.get_by_role("switch", name="QA review")
    tab.until("document.querySelector('#qa-state').textContent.length > 0")
    assert switch.get_attribute("aria-checked") == "true"  # QA is on at first
    switch.click()
    tab.until(
        "document.querySelector('#qa-switch').getAttribute('aria-checked') === 'false'"
    )
    assert site.get("/role/QCdisablestatus") == {"QCDisabled": True}
    switch.click()
    tab.until(
        "document.querySelector('#qa-switch').getAttribute('aria-checked') === 'true'"
    )
    assert site.get("/role/QCdisablestatus") == {"QCDisabled": False}

    page.select_option("#rule-create-status", "2")
    page.fill("#rule-create-percentage", "40")
    page.get_by_role("button", name="Create rule").click()
    tab.until("document.querySelector('#rule-table tbody').rows.length === 1")
    (rule,) = site.get("/rule/Get")
    assert (rule["Status"], rule["Percentage"], rule["IsActive"]) == (2, 40, True)
    page.fill("#rule-edit-percentage", "60")
    page.get_by_role("button", name="Save rule").click()
    tab.until("document.querySelector('#rule-table').textContent.includes('60 %')")
    assert site.get("/rule/Get")[0]["Percentage"] == 60
    tab.shot("qa-rules.png")
    page.click("#rule-delete")
    tab.until("document.querySelector('#rule-table tbody').rows.length === 0")
    assert site.get("/rule/Get") == []

    tab.go("Roles")
    assert page.url.endswith("#/roles")
    page.fill("#role-create-name", "reviewer")
    page.get_by_role("button", name="Create role").click()
    tab.until("document.querySelector('#role-table').textContent.includes('reviewer')")
    page.select_option("#role-edit-role", "reviewer")
    page.fill("#role-edit-name", "senior-qa")
    page.get_by_role("button", name="Rename role").click()
    tab.until("document.querySelector('#role-table').textContent.includes('senior-qa')")
    assert "senior-qa" in {r["RoleName"] for r in site.get("/role/Get")}
    tab.shot("roles.png")
    page.select_option("#role-edit-role", "senior-qa")
    page.click("#role-delete")
    tab.until("!document.querySelector('#role-table').textContent.includes('senior')")
    assert "senior-qa" not in {r["RoleName"] for r in site.get("/role/Get")}
    # A refusal (a built-in role) is shown beside its form, in words.
    page.select_option("#role-edit-role", "admin")
    page.click("#role-delete")
    tab.until("document.querySelector('#role-edit-error').textContent.length > 0")
    assert "admin" in {r["RoleName"] for r in site.get("/role/Get")}
    tab.close()
