"""The lock's countdown and renewal in the Crop and Review views (issues 16 and 17).

The server's lock timeout is set to 12 minutes for this module, so a countdown that
assumed 30 would show. Time is moved, never slept: the page's clock by Playwright's
``page.clock`` and the server's by ageing the locks in the database (``age_locks``),
by the same amount, as tests/api/test_lock_renewal.py does.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.browser import Site, Tab
from tests.support.manifest_samples import query
from tests.support.work_items import add_item, age_locks

TIMEOUT = timedelta(minutes=12)
TAKEN = "another user has taken the programme over"


@pytest.fixture(scope="module", autouse=True)
def short_locks(site: Site) -> None:
    site.settings.smartcrop_service.lock_timeout_minutes = 12


def _locked_at(site: Site, program: str) -> list[tuple[int | None, datetime]]:
    """(lockedby, lockedat) of the programme's rows."""
    return query(
        site.db_url,
        "SELECT DISTINCT lockedby, lockedat FROM smartcrop_programimage"
        " WHERE link_object_id = %s",
        (program,),
    )


def _countdown(tab: Tab, view: str) -> tuple[str, int, str]:
    """What the view's lock line shows: its <time datetime>, the seconds left, text."""
    node = f"#{view}-lock"
    return (
        tab.page.get_attribute(f"{node} time", "datetime") or "",
        int(tab.page.get_attribute(node, "data-left") or -1),
        tab.text(node),
    )


def _shows_the_answers_expiry(tab: Tab, view: str, answer_expiry: str) -> None:
    stamp, left, words = _countdown(tab, view)
    assert stamp == answer_expiry
    expected = datetime.fromisoformat(answer_expiry) - datetime.now(UTC)
    assert abs(left - expected.total_seconds()) <= 3, (left, expected)
    minutes, seconds = divmod(left, 60)
    assert words.startswith(f"Lock: {minutes:02d}:{seconds:02d} left (until ")


def test_the_crop_view_counts_down_renews_while_active_and_stops_on_a_takeover(
    browser, site: Site
) -> None:
    program = "SH000000017001"
    missing = f"{site.base}/demo-images/no-such-image"  # no cropping needed here
    images = [
        add_item(site.engine, program, "LOCKS", url=f"{missing}-{n}.jpg")
        for n in range(2)
    ]
    operator, email = site.user("operator")
    other, other_email = site.user("operator")

    tab = Tab(browser, site)
    page = tab.page
    page.clock.install()
    tab.log_in(email)
    tab.until(
        "[...document.querySelectorAll('#provider option')]"
        ".some(o => o.value === 'LOCKS')"
    )
    page.select_option("#provider", "LOCKS")
    with page.expect_response(lambda r: "/image/GetImageInfo" in r.url) as claimed:
        page.click("#claim")
    expiry = claimed.value.json()["Data"]["LockExpiresAt"]
    tab.visible("#crop-view")
    tab.until("document.querySelector('#crop-lock time') !== null")
    # The countdown is the answer's expiry (12 minutes, as the server says).
    ((holder, locked_at),) = _locked_at(site, program)
    assert holder == operator
    assert datetime.fromisoformat(expiry) == locked_at + TIMEOUT
    _shows_the_answers_expiry(tab, "crop", expiry)

    # 9 minutes on, 3 left (under a third of 12): an idle user's lock is not renewed.
    age_locks(site.engine, 9, *images)
    ((_, aged),) = _locked_at(site, program)
    page.clock.fast_forward("09:00")
    page.clock.run_for(3_000)
    assert _locked_at(site, program) == [(operator, aged)]
    assert tab.text("#crop-lock").startswith("Lock: 02:")

    # A key pressed: the user is active, the lock is renewed and the countdown restarts.
    with page.expect_response(lambda r: "/image/RenewLock" in r.url) as renewed:
        page.keyboard.press("Shift")
        page.clock.run_for(1_500)
    answer = renewed.value.json()["Data"]
    ((holder, renewed_at),) = _locked_at(site, program)
    assert holder == operator and renewed_at - aged > timedelta(minutes=8)
    assert answer == {
        "ProgramId": program,
        "LockExpiresAt": answer["LockExpiresAt"],
        "RenewedImages": 2,
    }
    assert datetime.fromisoformat(answer["LockExpiresAt"]) == renewed_at + TIMEOUT
    tab.until(
        "document.querySelector('#crop-lock time').dateTime"
        f" === {answer['LockExpiresAt']!r}"
    )
    _, left, _ = _countdown(tab, "crop")
    assert abs(left - TIMEOUT.total_seconds()) <= 3, left

    # The lock lapses (the user away), another operator takes the programme over; the
    # user comes back: the renewal is refused (409) and the page says so, in words.
    age_locks(site.engine, 13, *images)
    taken = site.get("/image/GetImageInfo", other_email, providerName="LOCKS")
    assert taken["ProgramId"] == program
    page.clock.fast_forward("13:00")
    assert "Lock expired at" in tab.text("#crop-lock")
    page.mouse.move(10, 10)
    page.clock.run_for(1_500)
    tab.until("document.querySelector('#crop-view').hidden")
    alert = page.get_by_role("alert").filter(has_text=TAKEN)
    assert alert.count() == 1 and alert.is_visible()
    assert f"Work on {program} stopped" in (alert.text_content() or "")
    assert _locked_at(site, program)[0][0] == other
    tab.shot("lock-taken-over.png")
    tab.close()


def test_the_review_view_counts_down_and_says_when_the_programme_was_taken(
    browser, site: Site
) -> None:
    program = "SH000000017002"
    image = add_item(site.engine, program, "LOCKS", status=2)
    _, reviewer = site.user("qa")
    _, colleague = site.user("qa")

    tab = Tab(browser, site)
    page = tab.page
    page.clock.install()
    tab.log_in(reviewer)
    tab.visible("#view-review")
    page.fill("#review-program", program)
    with page.expect_response(lambda r: "/GetCroppedImageInfo" in r.url) as claimed:
        page.click("#review")
    expiry = claimed.value.json()["Data"]["LockExpiresAt"]
    tab.visible("#review-view")
    tab.until("document.querySelector('#review-lock time') !== null")
    _shows_the_answers_expiry(tab, "review", expiry)

    age_locks(site.engine, 13, image)
    taken = site.get("/image/GetCroppedImageInfo", colleague, programId=program)
    assert taken["ProgramId"] == program
    page.clock.fast_forward("13:00")
    page.keyboard.press("Shift")
    page.clock.run_for(1_500)
    tab.until("document.querySelector('#review-view').hidden")
    words = tab.text("#review-lost")
    assert f"Work on {program} stopped" in words and TAKEN in words
    assert page.get_attribute("#review-lost", "role") == "alert"
    # Its keys no longer act on it: A approves nothing.
    page.keyboard.press("a")
    assert query(
        site.db_url,
        "SELECT status, currentstate FROM smartcrop_programimage WHERE id = %s",
        (image,),
    ) == [(2, 1)]
    tab.close()
