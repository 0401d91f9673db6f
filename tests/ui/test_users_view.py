"""The Users view (issue 16): an admin registers, changes, resets, releases and
deactivates through the page; the operator sees no admin link and gets 403 from the API
calls behind them. Checks go through the public API or the database."""

from __future__ import annotations

from tests.support.browser import PASSWORD, Site, Tab
from tests.support.manifest_samples import query
from tests.support.work_items import add_item

ADMIN_LINKS = ("Users", "Roles", "QA rules")


def test_users_view_admin_registers_an_operator_and_a_qa_user(
    browser, site: Site
) -> None:
    tab = Tab(browser, site)
    page = tab.page
    tab.log_in(site.admin)
    assert tab.links() == [
        "Crop",
        "Review",
        "Dashboard",
        "Reports",
        "Team",
        "Users",
        "Roles",
        "QA rules",
    ]
    tab.go("Users")
    assert page.url.endswith("#/users")
    tab.visible("#view-users")
    tab.until("document.querySelector('#register-role').options.length >= 3")
    # A new account starts as an operator, not as the first role of the list (admin).
    assert page.input_value("#register-role") == "operator"

    def register(name: str, email: str, role: str, password: str = PASSWORD):
        page.fill("#register-name", name)
        page.fill("#register-email", email)
        page.fill("#register-password", password)
        page.select_option("#register-role", role)
        page.click("#register")

    register("Olga Operator", "olga@example.com", "operator")
    tab.until("document.querySelector('#user-table').textContent.includes('olga@')")
    # After a registration the form starts again on operator, not on admin.
    assert page.input_value("#register-role") == "operator"
    register("Quentin QA", "quentin@example.com", "qa")
    tab.until("document.querySelector('#user-table').textContent.includes('quentin@')")
    users = {u["EmailID"]: u for u in site.get("/user/UserList")}
    assert users["olga@example.com"]["RoleName"] == "operator"
    assert users["quentin@example.com"]["RoleName"] == "qa"

    # The API's errors, in words, beside the form.
    register("Olga Again", "olga@example.com", "operator")
    tab.until("document.querySelector('#register-error').textContent.length > 0")
    register("Short", "short@example.com", "qa", password="short")
    tab.until("document.querySelector('#register-error').textContent.includes('10')")

    # Change name and role; reset a password; release a user's locks; deactivate.
    olga = users["olga@example.com"]["UserId"]
    page.select_option("#edit-user", str(olga))
    page.fill("#edit-name", "Olga Cropper")
    page.click("#edit-save")
    tab.until("document.querySelector('#user-table').textContent.includes('Cropper')")
    page.select_option("#edit-user", str(users["quentin@example.com"]["UserId"]))
    page.fill("#edit-password", "a brand new passphrase")
    page.click("#edit-reset")
    tab.until("document.querySelector('#status').textContent.includes('reset')")
    site.auth("quentin@example.com", "a brand new passphrase")

    held = add_item(site.engine, "SH000000016001", "LOCKS", state=1, locked_by=olga)
    page.select_option("#edit-user", str(olga))
    page.click("#edit-release")
    tab.until("document.querySelector('#status').textContent.includes('released')")
    assert query(
        site.db_url,
        "SELECT currentstate FROM smartcrop_programimage WHERE id = %s",
        (held,),
    ) == [(0,)]

    register("Temp Worker", "temp@example.com", "qa")
    tab.until("document.querySelector('#user-table').textContent.includes('temp@')")
    temp = {u["EmailID"]: u for u in site.get("/user/UserList")}["temp@example.com"]
    page.select_option("#edit-user", str(temp["UserId"]))
    page.click("#edit-deactivate")
    tab.until("document.querySelector('#status').textContent.includes('deactivated')")
    temp = {u["EmailID"]: u for u in site.get("/user/UserList")}["temp@example.com"]
    assert temp["IsActive"] is False
    final = {u["EmailID"]: u for u in site.get("/user/UserList")}
    assert final["olga@example.com"]["UserName"] == "Olga Cropper"
    tab.shot("users.png")

    # Reload and back keep the view.
    page.reload()
    tab.visible("#view-users")
    tab.go("Dashboard")
    tab.visible("#view-dashboard")
    page.go_back()
    tab.visible("#view-users")
    tab.close()

    # The operator sees no admin link; typing their URLs shows nothing of them, and
    # the API calls behind them answer 403.
    tab = Tab(browser, site)
    tab.log_in("olga@example.com", view="users")
    assert tab.links() == ["Crop", "Dashboard"]
    for name in ADMIN_LINKS:
        assert tab.page.get_by_role("link", name=name, exact=True).count() == 0
    for view in ("users", "roles", "qa-rules"):
        tab.page.goto(f"{site.base}/ui/#/{view}")
        tab.visible("#denied-view")
        assert tab.page.locator(f"#view-{view}").is_hidden()
    statuses = tab.page.evaluate("""async () => {
          const token = JSON.parse(sessionStorage.getItem('smartcrop.session')).token;
          const out = {};
          for (const path of ['/user/UserList', '/role/Get', '/rule/Get',
                              '/role/QCdisablestatus']) {
            const r = await fetch(path, {headers: {Authorization: `Bearer ${token}`}});
            out[path] = r.status;
          }
          return out;
        }""")
    assert set(statuses.values()) == {403}, statuses
    tab.close()
