"""The API side: Suggestions in the Programme, SuggestCrops on demand, SourceImage,
and the static crop page and demo images. Source images come from a real HTTP server
on loopback; the app runs on a fresh database."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from samples.demo import scenes
from smartcrop.lookups import ASPECT_RATIOS
from smartcrop.renditions.validation import AspectRatioSpec, CropBox, check_crop_box
from tests.support.contract_fields import IMAGE_FIELDS
from tests.support.image_server import Route, allowing, encode, serve
from tests.support.manifest_samples import query
from tests.support.work_items import add_item

SUGGESTION_FIELDS = {
    "AspectRatioId",
    "AspectRatio",
    "X",
    "Y",
    "Width",
    "Height",
    "Score",
    "Method",
}


@pytest.fixture
def engine(db_url: str):
    from tests.support.work_items import engine_for

    with engine_for(db_url) as engine:
        yield engine


@pytest.fixture
def images():
    face = scenes.face_scene(1280, 720, [(0.8, 0.35)], 170, seed=5)
    routes = {
        "/face.jpg": Route(encode(face.image)),
        "/flat.png": Route(
            encode(scenes.flat_scene(900, 600).image, "PNG"), "image/png"
        ),
    }
    with serve(routes) as (base, requested):
        yield base, requested, face


@pytest.fixture
def api_settings(db_url: str, settings_for, images):
    """The app's settings, with the loopback image server allowed by the fetch policy
    (the default refuses it: tests/security/test_ssrf_fetchers.py)."""
    base, _, _ = images
    fetch = {"image_fetch": {"allowed_hosts": allowing(base)}}
    return settings_for(db_url, smartcrop_service=fetch)


def _valid(suggestions: list[dict], width: int, height: int) -> None:
    assert [s["AspectRatioId"] for s in suggestions] == [r.id for r in ASPECT_RATIOS]
    for s, ratio in zip(suggestions, ASPECT_RATIOS, strict=True):
        assert set(s) == SUGGESTION_FIELDS
        assert s["AspectRatio"] == ratio.title
        check_crop_box(
            CropBox(s["X"], s["Y"], s["Width"], s["Height"]),
            AspectRatioSpec(ratio.id, ratio.title, ratio.width, ratio.height),
            source_width=width,
            source_height=height,
            label=ratio.title,
        )


def test_suggest_crops_on_demand_then_from_the_table(
    client, token_for, engine: Engine, images
) -> None:
    base, requested, face = images
    image_id = add_item(
        engine, "SH000000000101", url=f"{base}/face.jpg", width=None, height=None
    )
    _, headers = token_for("operator")
    url = f"/image/SuggestCrops?programId=SH000000000101&imageId={image_id}"

    first = client.get(url, headers=headers)
    assert first.status_code == 200, first.text
    data = first.json()["Data"]
    assert data["Computed"] is True
    assert (data["Width"], data["Height"]) == (1280, 720)  # read from the image
    assert data["Fetch"]["Status"] == "ok"
    _valid(data["Suggestions"], 1280, 720)
    head = face.faces[0]
    for s in data["Suggestions"]:
        assert s["Method"] == "face"
        assert s["X"] <= head.x and s["X"] + s["Width"] >= head.right
        assert s["Y"] <= head.y and s["Y"] + s["Height"] >= head.bottom
    assert requested == ["/face.jpg"]

    again = client.get(url, headers=headers).json()["Data"]
    assert again["Computed"] is False
    assert again["Suggestions"] == data["Suggestions"]
    assert requested == ["/face.jpg"]  # answered from the table

    fresh = client.get(url + "&refresh=true", headers=headers).json()["Data"]
    assert fresh["Computed"] is True and requested == ["/face.jpg"] * 2
    assert fresh["Fetch"]["Attempts"] == 2

    bad = client.get(url + "&refresh=maybe", headers=headers)
    assert bad.status_code == 400 and "refresh" in bad.json()["Message"]


def test_the_programme_carries_its_suggestions(
    client, token_for, engine: Engine, images
) -> None:
    base, _, _ = images
    program = ("SH000000000102", "PARAMOUNT")
    with_face = add_item(
        engine, *program, url=f"{base}/face.jpg", width=1280, height=720
    )
    flat = add_item(engine, *program, url=f"{base}/flat.png", width=900, height=600)
    user_id, headers = token_for("operator")
    # Suggestions for one image only: the other is computed later, on demand.
    computed = client.get(
        f"/image/SuggestCrops?programId=SH000000000102&imageId={with_face}",
        headers=headers,
    ).json()["Data"]["Suggestions"]

    claimed = client.get(
        f"/image/GetImageInfo?providerName=PARAMOUNT&user={user_id}", headers=headers
    )
    assert claimed.status_code == 200, claimed.text
    programme = claimed.json()["Data"]
    by_id = {image["ImageId"]: image for image in programme["Images"]}
    for image in by_id.values():
        # The contract's fields are all there, unchanged; Suggestions is added (and
        # the send-back's LastComment and SentBackBy, null here).
        added = {"Suggestions", "LastComment", "SentBackBy"}
        assert set(image) == IMAGE_FIELDS | added
        assert image["Status"] == 1 and image["CurrentState"] == 1
    assert by_id[with_face]["Suggestions"] == computed
    assert by_id[flat]["Suggestions"] == []

    on_demand = client.get(
        f"/image/SuggestCrops?programId=SH000000000102&imageId={flat}",
        headers=headers,
    ).json()["Data"]
    _valid(on_demand["Suggestions"], 900, 600)
    assert {s["Method"] for s in on_demand["Suggestions"]} == {"centre"}


def test_an_image_that_cannot_be_fetched_is_refused_with_its_reason(
    client, token_for, engine: Engine, images
) -> None:
    base, _, _ = images
    image_id = add_item(engine, "SH000000000103", url=f"{base}/gone.jpg")
    _, headers = token_for("qa")
    answer = client.get(
        f"/image/SuggestCrops?programId=SH000000000103&imageId={image_id}",
        headers=headers,
    )
    assert answer.status_code == 400
    body = answer.json()
    assert body["IsSuccess"] is False and body["Data"] is None
    assert "the server answered HTTP 404" in body["Message"]
    assert "Broken image link" in body["Message"]
    recorded = query(
        client.app.state.settings.database.url.get_secret_value(),
        "SELECT status, reason, httpstatus FROM smartcrop_imagefetch",
    )
    assert recorded == [("failed", "the server answered HTTP 404", 404)]


def test_who_may_ask_and_what_is_not_found(
    client, token_for, engine: Engine, images, make_user
) -> None:
    base, _, _ = images
    image_id = add_item(engine, "SH000000000104", url=f"{base}/face.jpg")
    url = f"/image/SuggestCrops?programId=SH000000000104&imageId={image_id}"
    assert client.get(url).status_code == 401
    _, admin = token_for("admin")
    assert client.get(url, headers=admin).status_code == 200
    created = client.post("/role/Create", json={"RoleName": "viewer"}, headers=admin)
    assert created.status_code == 200, created.text
    _, viewer = token_for("viewer")
    assert client.get(url, headers=viewer).status_code == 403
    _, operator = token_for("operator")
    wrong = client.get(
        f"/image/SuggestCrops?programId=SH999&imageId={image_id}", headers=operator
    )
    assert wrong.status_code == 404
    unknown = client.get("/image/SuggestCrops?imageId=999999", headers=operator)
    assert unknown.status_code == 404
    missing = client.get(
        "/image/SuggestCrops?programId=SH000000000104", headers=operator
    )
    assert missing.status_code == 400 and "imageId" in missing.json()["Message"]
    garbled = client.get("/image/SuggestCrops?imageId=x", headers=operator)
    assert garbled.status_code == 400


def test_source_image_passes_the_bytes_through(
    client, token_for, engine: Engine, images
) -> None:
    base, _, _ = images
    good = add_item(engine, "SH000000000105", url=f"{base}/flat.png")
    gone = add_item(engine, "SH000000000105", url=f"{base}/gone.png")
    _, headers = token_for("operator")
    answer = client.get(
        f"/image/SourceImage?programId=SH000000000105&imageId={good}", headers=headers
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/png"
    assert answer.content.startswith(b"\x89PNG")
    refused = client.get(
        f"/image/SourceImage?programId=SH000000000105&imageId={gone}", headers=headers
    )
    assert refused.status_code == 400 and "HTTP 404" in refused.json()["Message"]
    assert client.get(f"/image/SourceImage?imageId={good}").status_code == 401


def test_the_crop_page_and_the_demo_images_are_served(client) -> None:
    page = client.get("/ui/")
    assert page.status_code == 200 and "<title>SmartCrop" in page.text
    assert client.get("/ui", follow_redirects=False).status_code == 307
    for asset in (
        "app.js",
        "core.js",
        "crop.js",
        "dashboard.js",
        "reports.js",
        "admin.js",
        "app.css",
        "vendor/cropper.min.js",
        "vendor/cropper.min.css",
    ):
        assert client.get(f"/ui/{asset}").status_code == 200, asset
    photo = client.get("/demo-images/astronaut.jpg")
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    missing = client.get("/ui/nothing.js")
    assert missing.status_code == 404 and missing.json()["IsSuccess"] is False
