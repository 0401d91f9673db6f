"""A whole programme cropped and saved with the keyboard only (no mouse event), then
approved with `A` (issue 16); axe-core on the work views."""

from __future__ import annotations

from tests.support.browser import Site, Tab
from tests.support.manifest_samples import query
from tests.support.work_items import add_item


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
