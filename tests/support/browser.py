"""What the browser tests share: Debian's Chromium through Playwright, a live API on a
fresh database (``Site``), and a tab that records every page error and CSP report
(``Tab``).

Playwright's own browser download does not work on these machines, so the tests drive
``/usr/bin/chromium``; without it (or without Playwright) a test is skipped, saying
why, except in CI, where it must run (the Makefile's ``browser`` step installs it).
"""

from __future__ import annotations

import io
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
from tests.support.image_server import allowing
from tests.support.postgres import PostgresServer, fresh_database
from tests.support.work_items import add_item, engine_for
from tests.support.workflow_api import live_server, rendition

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "ui"
AXE = REPO / "tests" / "ui" / "vendor" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PASSWORD = "a long test passphrase"


def need(condition: bool, reason: str) -> None:
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(
            f"{reason} (CI must run the browser tests: `make test` installs it)"
        )
    pytest.skip(reason)


@contextmanager
def chromium(profile: Path, *, timeout_ms: int = 30_000) -> Iterator[Any]:
    """A persistent Chromium context on a fresh profile (skips without Chromium)."""
    need(Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need(False, "the playwright package is not installed")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=LAUNCH_ARGS,
            viewport={"width": 1400, "height": 1000},
            accept_downloads=True,
        )
        context.set_default_timeout(timeout_ms)
        try:
            yield context
        finally:
            context.close()


def wait_until(page: Any, expression: str, timeout: float = 30.0) -> None:
    """Poll ``expression`` in the page until it is true. (Playwright's
    wait_for_function evaluates its predicate with eval inside the page, which the
    page's Content-Security-Policy forbids, as it should; page.evaluate goes through
    the DevTools protocol, which the policy does not govern.)"""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout:.0f} s: {expression}")
        time.sleep(0.1)


def shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


@dataclass
class Site:
    """The API served by uvicorn on a fresh database, with an admin."""

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


@contextmanager
def serve_site(
    pg_server: PostgresServer, pg_template: str, root: Path
) -> Iterator[Site]:
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
    try:
        with (
            live_server(app) as base,
            engine_for(db_url) as engine,
            httpx.Client(base_url=base, timeout=60) as http,
        ):
            settings.smartcrop_service.image_fetch.allowed_hosts.extend(allowing(base))
            made = Site(base, db_url, engine, settings, http, admin="")
            made.admin = made.user("admin")[1]
            yield made
    finally:
        next(databases, None)


def finish_programme(
    site: Site, email: str, provider: str, program: str, images: int = 2
) -> list[int]:
    """A programme of ``images`` work items, claimed and finished (16x9 and 1x1
    renditions) through the API by the operator ``email``; the work items' ids. Their
    URLs are missing files of the site itself: a page that opens them fails at once."""
    ids = [
        add_item(
            site.engine,
            program,
            provider,
            url=f"{site.base}/demo-images/missing/{program}-{n}.jpg",
        )
        for n in range(images)
    ]
    auth = site.auth(email)
    claimed = site.http.get(
        "/image/GetImageInfo", params={"providerName": provider}, headers=auth
    )
    assert claimed.json()["Data"]["ProgramId"] == program, claimed.text
    saved = site.http.post(
        "/image/SaveCropedImages",
        headers=auth,
        json={
            "ProgramId": program,
            "Images": [
                {
                    "ImageId": image,
                    "Status": 2,
                    "Renditions": [rendition(1, 160, 90), rendition(5, 90, 90)],
                }
                for image in ids
            ],
        },
    )
    assert saved.status_code == 200, saved.text
    return ids


def qa_decides(site: Site, email: str, program: str, status: int, **more: Any) -> None:
    """The QA user ``email`` claims ``program`` and moves it to ``status`` (3
    approve, 1 send back, 4 reject; a reason and a comment in ``more``)."""
    auth = site.auth(email)
    for path, params in (
        ("/image/GetCroppedImageInfo", {"programId": program}),
        (
            "/image/UpdateStatus",
            {"programId": program, "status": status, "currentState": 0, **more},
        ),
    ):
        answer = site.http.get(path, params=params, headers=auth)
        assert answer.status_code == 200, answer.text


class Tab:
    """One tab: its page and every page error or CSP report it raised."""

    def __init__(self, browser: Any, site: Site, *, axe: bool = False) -> None:
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
        wait_until(self.page, expression, timeout)

    def text(self, selector: str) -> str:
        return self.page.locator(selector).text_content() or ""

    def shot(self, name: str) -> None:
        shot(self.page, name)

    def download_xlsx(self, button: str = "Download XLSX") -> list[list[Any]]:
        """Click the button; the first sheet of the workbook it downloads, as rows."""
        with self.page.expect_download() as info:
            self.page.get_by_role("button", name=button).click()
        download = info.value
        assert download.suggested_filename.endswith(".xlsx")
        workbook = CalamineWorkbook.from_filelike(
            io.BytesIO(Path(download.path()).read_bytes())
        )
        rows: list[list[Any]] = workbook.get_sheet_by_index(0).to_python()
        return rows

    def links(self) -> list[str]:
        """The navigation's link names, in order."""
        return [
            name.strip()
            for name in self.page.get_by_role("navigation", name="Views")
            .get_by_role("link")
            .all_text_contents()
        ]

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


def cell(value: Any) -> str:
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
