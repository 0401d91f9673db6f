"""The web app's views in a real headless Chromium (issue 16), one test per view.

One API server, one database and one Chromium serve the whole module (each test
opens its own tab, so its own session). Every page runs under the /ui/
Content-Security-Policy and a test fails on any CSP report or page error. Checks go
through the public API (httpx) or the database, never through the page alone.
Screenshots of every view are kept under ``test-artifacts/ui/`` (git-ignored).
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.app import create_app
from smartcrop.identity.users import create_user
from smartcrop.settings import load_settings
from tests.api.workflow_support import live_server, rendition
from tests.ingest.helpers import query
from tests.support.postgres import fresh_database
from tests.support.recording_server import allowing
from tests.ui.test_crop_page import CHROMIUM, LAUNCH_ARGS, _need, _wait_until
from tests.workflow.factory import add_item, engine_for

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "ui"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
PASSWORD = "a long test passphrase"
ADMIN_LINKS = ("Users", "Roles", "QA rules")


@dataclass
class Site:
    base: str
    db_url: str
    engine: Engine
    settings: Any
    http: httpx.Client
    admin: str  # the admin's e-mail
    counter: int = 0

    def user(self, role: str) -> tuple[int, str]:
        """A user made directly (as the CLI does): (id, e-mail)."""
        self.counter += 1
        email = f"{role}{self.counter}@example.com"
        with Session(self.engine) as session, session.begin():
            user = create_user(
                session,
                name=f"{role.title()} {self.counter}",
                email=email,
                password=PASSWORD,
                role_name=role,
            )
            return user.id, email

    def auth(self, email: str, password: str = PASSWORD) -> dict[str, str]:
        answer = self.http.post(
            "/user/Login", json={"EmailID": email, "Password": password}
        )
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['Data']['Token']}"}

    def get(self, path: str, email: str | None = None, **params: Any) -> Any:
        answer = self.http.get(
            path, params=params, headers=self.auth(email or self.admin)
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["Data"]


@pytest.fixture(scope="module")
def site(pg_server, pg_template, tmp_path_factory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("webapp")
    databases = fresh_database(pg_server, pg_template)
    db_url = next(databases)
    settings = load_settings(
        database={"url": db_url, "embedded_dir": str(root / "pgdata")},
        processing_middleware={
            "local_filesystem": {
                "root_path": str(root / "staging"),
                "quarantine_path": str(root / "quarantine"),
                "work_dir": str(root / "work"),
            }
        },
        smartcrop_service={
            "storage": {"local_root": str(root / "renditions")},
            "auth": {"secret_file": str(root / "jwt_secret")},
        },
        smartcrop_filewatcher_batchjob={"output_dir": str(root / "outbound")},
        smartcrop_dumpdata={"local_path": str(root / "dumps")},
    )
    app = create_app(settings, db_url)
    with (
        live_server(app) as base,
        engine_for(db_url) as engine,
        httpx.Client(base_url=base, timeout=60) as http,
    ):
        settings.smartcrop_service.image_fetch.allowed_hosts.extend(allowing(base))
        made = Site(base, db_url, engine, settings, http, admin="")
        made.admin = made.user("admin")[1]
        yield made
    next(databases, None)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    _need(Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need(False, "the playwright package is not installed")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            headless=True,
            args=LAUNCH_ARGS,
            viewport={"width": 1400, "height": 1000},
            accept_downloads=True,
        )
        context.set_default_timeout(30_000)
        try:
            yield context
        finally:
            context.close()


class Tab:
    """One tab: its page and every page error or CSP report it raised."""

    def __init__(self, browser, site: Site, *, axe: bool = False) -> None:
        self.site = site
        self.page = browser.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on(
            "console",
            lambda message: (
                self.errors.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )
        # Init scripts are not governed by the page's CSP (nor is evaluate).
        self.page.add_init_script(
            "window.__pointer = 0; addEventListener('pointerdown',"
            " () => { window.__pointer += 1; }, true);"
        )
        if axe:
            self.page.add_init_script(path=str(AXE))

    def log_in(self, email: str, password: str = PASSWORD, view: str = "") -> None:
        page = self.page
        page.goto(f"{self.site.base}/ui/{'#/' + view if view else ''}")
        page.fill("#email", email)
        page.fill("#password", password)
        page.press("#password", "Enter")
        page.wait_for_selector("#who:not([hidden])")

    def go(self, name: str) -> None:
        self.page.get_by_role("link", name=name, exact=True).click()

    def visible(self, selector: str) -> None:
        self.page.wait_for_selector(f"{selector}:not([hidden])")

    def until(self, expression: str, timeout: float = 20) -> None:
        _wait_until(self.page, expression, timeout)

    def text(self, selector: str) -> str:
        return self.page.locator(selector).text_content() or ""

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / name), full_page=True)

    def axe(self, where: str) -> None:
        """No serious or critical axe-core violation on what the tab shows."""
        found = self.page.evaluate("""async () => {
              const result = await axe.run(document, {resultTypes: ['violations']});
              return result.violations
                .filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => `${v.id} (${v.impact}): ` +
                     v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '));
            }""")
        assert found == [], f"{where}: {found}"

    def close(self) -> None:
        assert self.errors == []
        self.page.close()


def _links(tab: Tab) -> list[str]:
    return [
        name.strip()
        for name in tab.page.get_by_role("navigation", name="Views")
        .get_by_role("link")
        .all_text_contents()
    ]


def test_users_view_admin_registers_an_operator_and_a_qa_user(
    browser, site: Site
) -> None:
    tab = Tab(browser, site)
    page = tab.page
    tab.log_in(site.admin)
    assert _links(tab) == [
        "Crop",
        "Review",
        "Dashboard",
        "Reports",
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
    assert _links(tab) == ["Crop", "Dashboard"]
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


def _cell(value: Any) -> str:
    """A report value as text, times in UTC to the millisecond (an XLSX cell's)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        ms = round(value.microsecond / 1000)
        value = value.replace(microsecond=0) + timedelta(milliseconds=ms)
        return value.isoformat(timespec="milliseconds")
    return str(value)


def test_reports_view_downloads_the_filtered_rows(browser, site: Site) -> None:
    operator, email = site.user("operator")
    for provider, program in (("REPA", "SH000000016301"), ("REPB", "SH000000016302")):
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
    assert expected["TotalCount"] == 4
    tab.until("document.querySelector('#report-count').textContent === '4'")
    tab.until("document.querySelector('#report-table tbody').rows.length === 4")
    tab.shot("reports.png")

    with page.expect_download() as info:
        page.get_by_role("button", name="Download XLSX").click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    workbook = CalamineWorkbook.from_filelike(
        io.BytesIO(Path(download.path()).read_bytes())
    )
    header, *rows = workbook.get_sheet_by_index(0).to_python()
    assert header == list(expected["Items"][0])
    assert [[_cell(v) for v in row] for row in rows] == [
        [_cell(v) for v in item.values()] for item in expected["Items"]
    ]
    tab.close()


def test_keyboard_crops_a_programme_and_review_approves_with_a(
    browser, site: Site
) -> None:
    # QA on, no rule: the saved programme goes to QA.
    for rule in site.get("/rule/Get"):
        site.http.post(
            "/rule/Delete", json={"Id": rule["Id"]}, headers=site.auth(site.admin)
        )
    site.get("/role/QCdisable", status=0)
    program = "SH000000016401"
    first = add_item(
        site.engine,
        program,
        "KEYS",
        url=f"{site.base}/demo-images/presenter_right.jpg",
        width=1920,
        height=1080,
    )
    second = add_item(
        site.engine,
        program,
        "KEYS",
        url=f"{site.base}/demo-images/two_presenters.jpg",
        width=1920,
        height=1080,
    )
    _, operator = site.user("operator")
    _, reviewer = site.user("qa")

    tab = Tab(browser, site, axe=True)
    page = tab.page
    tab.log_in(operator)
    tab.visible("#view-crop")
    tab.until(
        "[...document.querySelectorAll('#provider option')]"
        ".some(o => o.value === 'KEYS')"
    )
    page.select_option("#provider", "KEYS")
    page.focus("#claim")
    page.keyboard.press("Enter")
    tab.until(
        "document.querySelectorAll('.ratio-tab[aria-selected=true]').length === 2"
        " && [...document.querySelectorAll('.ratio-tab small')]"
        ".every(s => !s.textContent.includes('no suggestion'))",
        timeout=40,
    )
    assert tab.text("#crop-lock").startswith("Lock: ")
    tab.axe("crop view with a programme")
    # The keys act on the cards in the page's order, the first one to begin with.
    order = page.evaluate(
        "[...document.querySelectorAll('.image-card')]"
        ".map(c => Number(c.dataset.imageId))"
    )
    assert sorted(order) == sorted([first, second])
    first, second = order

    def box(image: int) -> str:
        return tab.text(f'.image-card[data-image-id="{image}"] .box-text')

    def selected(image: int) -> str | None:
        return page.get_attribute(
            f'.image-card[data-image-id="{image}"] .ratio-tab[aria-selected="true"]',
            "data-ratio",
        )

    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("3")
    assert selected(first) == "3"
    suggested_3x4 = box(first)
    page.keyboard.press("-")
    page.keyboard.press("-")
    for _ in range(3):
        page.keyboard.press("ArrowLeft")
    page.keyboard.press("Shift+ArrowDown")
    assert box(first) != suggested_3x4
    # Keys do nothing while typing in a field.
    page.focus(f'.image-card[data-image-id="{first}"] input[value="crop"]')
    page.keyboard.press("1")
    assert selected(first) == "3"
    page.evaluate("document.activeElement.blur()")

    page.keyboard.press("j")
    page.keyboard.press("5")
    assert selected(second) == "5"
    suggested_1x1 = box(second)
    page.keyboard.press("-")
    page.keyboard.press("Shift+ArrowRight")
    assert box(second) != suggested_1x1
    page.keyboard.press("s")
    assert box(second) == suggested_1x1
    # R marks the image rejected and puts the focus in its reason list; Escape gives
    # the keys back. Then, still from the keyboard, it goes back to being cropped.
    card = f'.image-card[data-image-id="{second}"]'
    page.keyboard.press("r")
    assert page.is_checked(f'{card} .decision input[value="reject"]')
    assert page.evaluate(
        "document.activeElement.classList.contains('reject-reason')"
        f" && document.activeElement.closest('.image-card').dataset.imageId"
        f" === '{second}'"
    )
    page.keyboard.press("Escape")
    assert not page.evaluate(
        "document.activeElement.classList.contains('reject-reason')"
    )
    page.focus(f'{card} .decision input[value="crop"]')
    page.keyboard.press("Space")
    assert page.is_checked(f'{card} .decision input[value="crop"]')
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("k")
    page.keyboard.press("+")

    page.keyboard.press("?")
    assert page.locator("#key-help").is_visible()
    tab.axe("key list")
    page.keyboard.press("Escape")
    assert page.locator("#key-help").is_hidden()
    tab.shot("crop-keyboard.png")
    page.keyboard.press("Control+Enter")
    tab.until("document.querySelector('#status').textContent.startsWith('Saved')", 40)

    suggested = {
        (image, ratio): (x, y, w, h)
        for image, ratio, x, y, w, h in query(
            site.db_url,
            "SELECT programimageid, aspectratioid, x, y, width, height"
            " FROM smartcrop_cropsuggestion WHERE programimageid = ANY(%s)",
            ([first, second],),
        )
    }
    saved = {
        (image, ratio): (x, y, w, h)
        for image, ratio, x, y, w, h in query(
            site.db_url,
            "SELECT programimageid, aspectratioid, cropx, cropy, cropwidth, cropheight"
            " FROM smartcrop_aspectratioimages WHERE programimageid = ANY(%s)",
            ([first, second],),
        )
    }
    assert set(saved) == set(suggested) and len(saved) == 10
    x, y, w, h = saved[(first, 3)]
    sx, sy, sw, sh = suggested[(first, 3)]
    assert w * 4 == h * 3 and w < sw  # shrunk twice, grown once, at its ratio
    assert saved[(second, 5)] == suggested[(second, 5)]  # S: back to the suggestion
    for key in saved:
        if key != (first, 3):
            assert saved[key] == suggested[key]
    assert page.evaluate("window.__pointer") == 0  # not one mouse event
    tab.close()

    tab = Tab(browser, site, axe=True)
    page = tab.page
    tab.log_in(reviewer)
    tab.visible("#view-review")
    page.focus("#review-program")
    page.keyboard.type(program)  # other programmes wait in QA too
    page.focus("#review")
    page.keyboard.press("Enter")
    tab.until(
        "[...document.querySelectorAll('.rendition img')]"
        ".filter(i => i.complete && i.naturalWidth > 0).length === 10"
    )
    tab.axe("review view with a programme")
    tab.shot("review.png")
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("a")
    tab.until(
        "document.querySelector('#status').textContent"
        f".startsWith('Status updated: {program}')"
    )
    assert query(
        site.db_url,
        "SELECT DISTINCT status, currentstate FROM smartcrop_programimage"
        " WHERE link_object_id = %s",
        (program,),
    ) == [(3, 0)]
    assert page.evaluate("window.__pointer") == 0
    tab.close()


def test_accessibility_of_every_view(browser, site: Site) -> None:
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
