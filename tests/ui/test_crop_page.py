"""The crop page in a real headless Chromium (Debian's, driven by Playwright).

An operator logs in, claims a programme, sees each image with its suggested boxes
(computed on demand: nothing was precomputed), moves one box with the mouse, saves;
the database then holds the renditions, rendered in the browser at each box's size.
A QA user then claims the programme, sees the renditions and approves it. One image
comes from another origin without CORS headers, so the page reads it through the API.

Screenshots are kept under ``test-artifacts/`` (git-ignored). Without Chromium (or
Playwright) the test is skipped, saying why, except in CI, where it must run
(tests/support/browser.py).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from api.app import create_app
from samples.demo import scenes
from tests.support.browser import chromium, shot, wait_until
from tests.support.image_server import Route, allowing, encode, serve
from tests.support.manifest_samples import query
from tests.support.work_items import add_item, engine_for
from tests.support.workflow_api import live_server

PROGRAM = "SH000000000777"


@pytest.fixture
def browser_context(tmp_path: Path):
    with chromium(tmp_path / "chromium-profile", timeout_ms=60_000) as context:
        yield context


def _log_in(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/ui/")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#login")
    page.wait_for_selector("#who:not([hidden])")


def test_operator_crops_and_qa_approves_in_the_browser(
    browser_context, db_url: str, settings_for, make_user
) -> None:
    settings = settings_for(db_url)
    app = create_app(settings, db_url)
    elsewhere = scenes.face_scene(1280, 720, [(0.25, 0.4)], 170, seed=21)
    with (
        live_server(app) as base,
        serve({"/guest.jpg": Route(encode(elsewhere.image))}) as (other_origin, _),
        engine_for(db_url) as engine,
    ):
        # Both loopback servers (the API's own demo images, as `smartcrop up` allows
        # them, and another origin) are allowed by the fetch policy, which the app
        # reads per request; the default refuses them (tests/security/test_ssrf.py).
        settings.smartcrop_service.image_fetch.allowed_hosts.extend(
            allowing(base, other_origin)
        )
        same_origin = add_item(
            engine,
            PROGRAM,
            "DEMO",
            url=f"{base}/demo-images/presenter_right.jpg",
            width=1920,
            height=1080,
        )
        cross_origin = add_item(
            engine,
            PROGRAM,
            "DEMO",
            url=f"{other_origin}/guest.jpg",
            width=1280,
            height=720,
        )
        _, operator_email, password = make_user("operator")
        _, qa_email, _ = make_user("qa")

        page = browser_context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        # The page runs under a strict Content-Security-Policy: nothing it does may
        # be blocked by it (Chromium reports each blocked load or style).
        page.on(
            "console",
            lambda message: (
                errors.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )
        _log_in(page, base, operator_email, password)
        # The provider list, most waiting first, with its waiting counts.
        wait_until(page, "document.querySelector('#provider').options.length > 0")
        assert page.locator("#provider option").first.text_content() == (
            "DEMO · 2 waiting"
        )
        page.select_option("#provider", "DEMO")
        page.click("#claim")
        # Both images open with a cropper and five ratio tabs each.
        wait_until(
            page,
            "document.querySelectorAll('.image-card .cropper-crop-box').length === 2"
            " && document.querySelectorAll('.image-card .ratio-tab').length === 10",
        )
        wait_until(
            page,
            "[...document.querySelectorAll('.ratio-tab small')]"
            ".every(s => !s.textContent.includes('no suggestion'))",
        )
        shot(page, "1-claimed.png")

        suggested = {
            (image_id, ratio): (x, y, w, h)
            for image_id, ratio, x, y, w, h in query(
                db_url,
                "SELECT programimageid, aspectratioid, x, y, width, height"
                " FROM smartcrop_cropsuggestion",
            )
        }
        assert len(suggested) == 10  # SuggestCrops ran for both, on demand

        # Move the 3x4 box of the first image to the left with the mouse.
        card = page.locator(f'.image-card[data-image-id="{same_origin}"]')
        card.locator('.ratio-tab[data-ratio="3"]').click()
        face = card.locator(".cropper-face")
        box = face.bounding_box()
        assert box is not None
        start = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.move(*start)
        page.mouse.down()
        page.mouse.move(start[0] - 160, start[1], steps=12)
        page.mouse.up()
        wait_until(
            page,
            "document.querySelector("
            f'\'.image-card[data-image-id="{same_origin}"] .ratio-tab[data-ratio="3"]\''
            ").classList.contains('edited')",
        )
        shot(page, "2-moved.png")

        page.click("#save")
        wait_until(
            page, "document.querySelector('#status').textContent.startsWith('Saved')"
        )
        shot(page, "3-saved.png")
        assert errors == []

        renditions = {
            (image_id, ratio): (x, y, w, h, key)
            for image_id, ratio, x, y, w, h, key in query(
                db_url,
                "SELECT programimageid, aspectratioid, cropx, cropy, cropwidth,"
                " cropheight, storagekey FROM smartcrop_aspectratioimages",
            )
        }
        assert set(renditions) == set(suggested)
        moved = renditions[(same_origin, 3)]
        assert moved[0] < suggested[(same_origin, 3)][0]  # moved left
        assert moved[2:4] == suggested[(same_origin, 3)][2:4]  # same size
        for key, (x, y, w, h, storage_key) in renditions.items():
            if key != (same_origin, 3):
                assert (x, y, w, h) == suggested[key]  # untouched: as suggested
            stored = settings.smartcrop_service.storage.local_root / storage_key
            with Image.open(io.BytesIO(stored.read_bytes())) as rendered:
                assert rendered.size == (w, h)  # rendered at the box's size
        states = query(
            db_url,
            "SELECT DISTINCT status, currentstate FROM smartcrop_programimage"
            " WHERE id = ANY(%s)",
            ([same_origin, cross_origin],),
        )
        assert states == [(2, 0)]  # QA is on and has no rule: all go to QA

        # QA: claim, see the ten renditions, approve.
        page.click("#logout")
        _log_in(page, base, qa_email, password)
        page.click("#review")
        wait_until(
            page,
            "[...document.querySelectorAll('.rendition img')]"
            ".filter(i => i.complete && i.naturalWidth > 0).length === 10",
        )
        shot(page, "4-review.png")
        page.click("#approve")
        wait_until(
            page,
            "document.querySelector('#status').textContent"
            f".startsWith('Status updated: {PROGRAM}')",
        )
        states = query(
            db_url,
            "SELECT DISTINCT status, currentstate FROM smartcrop_programimage"
            " WHERE id = ANY(%s)",
            ([same_origin, cross_origin],),
        )
        assert states == [(3, 0)]
        assert errors == []
