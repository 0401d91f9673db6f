"""Renditions over HTTP (contract 4.1): stored, served and deleted on the local and S3
backends, URLs through the CDN, source sizes read on claim."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.support.image_server import allowing, png, serve
from tests.support.s3_server import ACCESS_KEY, REGION, SECRET_KEY
from tests.support.work_items import add_item, snapshot
from tests.support.workflow_api import (
    claim,
    client_for,
    data,
    qa_claim,
    refused,
    rendition,
    save_body,
    standard_renditions,
)


def test_the_cdn_rewrites_every_url_given_out(
    token_for, engine: Engine, db_url: str, settings_for
) -> None:
    settings = settings_for(
        db_url,
        smartcrop_service={
            "storage": {"public_base_url": "https://origin.example.com/renditions"},
            "cdn": {
                "origin_base_url": "https://origin.example.com",
                "rewrite_base_url": "https://cdn.example.com",
            },
        },
    )
    op, op_h = token_for("operator")
    image = add_item(engine, "SH1", url="https://origin.example.com/src/a.jpg")
    with client_for(settings, db_url) as client:
        programme = data(claim(client, op_h, op))
        assert programme["Images"][0]["ImageUrl"] == "https://cdn.example.com/src/a.jpg"
        body = save_body("SH1", op, [(image, 2, None, standard_renditions())])
        saved = data(client.post("/image/SaveCropedImages", json=body, headers=op_h))
    urls = [r["Url"] for r in saved["Images"][0]["Renditions"]]
    assert urls == [
        f"https://cdn.example.com/renditions/NBCU/SH1/{image}/16x9.png",
        f"https://cdn.example.com/renditions/NBCU/SH1/{image}/1x1.jpg",
    ]
    with engine.connect() as conn:  # stored as the origin URL; rewritten when given out
        stored = (
            conn.execute(
                text("SELECT imageurl FROM smartcrop_aspectratioimages ORDER BY id")
            )
            .scalars()
            .all()
        )
    assert stored[0].startswith("https://origin.example.com/renditions/")


def test_the_s3_backend_stores_serves_and_deletes_renditions(
    token_for, engine: Engine, db_url: str, settings_for, s3_server: str, s3_bucket
) -> None:
    s3, bucket = s3_bucket
    settings = settings_for(
        db_url,
        smartcrop_service={"storage": {"backend": "s3", "endpoint_url": s3_server}},
        aws_config={
            "service_accounts": [{"uat": {"smartcrop_bucket": bucket}}],
            "region": REGION,
            "access_key_id": ACCESS_KEY,
            "secret_access_key": SECRET_KEY,
        },
    )
    op, op_h = token_for("operator")
    qa, qa_h = token_for("qa")
    image = add_item(engine, "SH1")
    body = save_body("SH1", op, [(image, 2, None, standard_renditions())])
    with client_for(settings, db_url) as client:
        data(claim(client, op_h, op))
        data(client.post("/image/SaveCropedImages", json=body, headers=op_h))
        keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
        assert keys == [f"NBCU/SH1/{image}/16x9.png", f"NBCU/SH1/{image}/1x1.jpg"]
        obj = s3.get_object(Bucket=bucket, Key=keys[0])
        assert obj["ContentType"] == "image/png"
        assert obj["Body"].read() == base64.b64decode(
            body["Images"][0]["Renditions"][0]["ImageBase64"]
        )
        review = data(qa_claim(client, qa_h, qa, "SH1"))
        got = [r["ImageBase64"] for r in review["Images"][0]["Renditions"]]
        assert got == [r["ImageBase64"] for r in body["Images"][0]["Renditions"]]
        deleted = client.get(
            f"/image/DeleteCroppedImageInfo?programId=SH1&id=5&imageid={image}",
            headers=qa_h,
        )
        assert data(deleted) is None
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
        assert keys == [f"NBCU/SH1/{image}/16x9.png"]
        # A stored image that cannot be read leaves ImageBase64 empty, not an error.
        s3.delete_object(Bucket=bucket, Key=keys[0])
        again = data(qa_claim(client, qa_h, qa, "SH1"))
        assert again["Images"][0]["Renditions"][0]["ImageBase64"] is None
    with engine.connect() as conn:
        left = (
            conn.execute(text("SELECT aspectratioid FROM smartcrop_aspectratioimages"))
            .scalars()
            .all()
        )
    assert left == [1]


def test_the_operator_deletes_a_rendition_on_the_local_backend(
    client: TestClient, token_for, engine: Engine, api_settings
) -> None:
    op, op_h = token_for("operator")
    image = add_item(engine, "SH1")
    data(claim(client, op_h, op))
    body = save_body("SH1", op, [(image, 1, None, standard_renditions())])
    data(client.post("/image/SaveCropedImages", json=body, headers=op_h))
    data(claim(client, op_h, op))  # Status 1 released it: claim it again
    path = f"/image/DeleteCroppedImageInfo?programId=SH1&id=1&imageid={image}"
    assert data(client.get(path, headers=op_h)) is None
    root = Path(api_settings.smartcrop_service.storage.local_root)
    assert not (root / "NBCU" / "SH1" / str(image) / "16x9.png").exists()
    assert (root / "NBCU" / "SH1" / str(image) / "1x1.jpg").exists()
    assert refused(client.get(path, headers=op_h), 404)


def test_source_sizes_are_read_on_claim_and_a_dead_url_is_a_400(
    token_for, engine: Engine, settings_for, db_url: str
) -> None:
    op, op_h = token_for("operator")
    with serve({"/poster.png": png(800, 1200)}) as (base, _):
        # The loopback server is allowed by the fetch policy (refused by default:
        # tests/security/test_ssrf_fetchers.py).
        fetch = {"image_fetch": {"allowed_hosts": allowing(base)}}
        settings = settings_for(db_url, smartcrop_service=fetch)
        with client_for(settings, db_url) as client:
            good = add_item(
                engine, "SH1", url=f"{base}/poster.png", width=None, height=None
            )
            first = data(claim(client, op_h, op))["Images"][0]
            assert (first["Width"], first["Height"]) == (800, 1200)
            body = save_body("SH1", op, [(good, 2, None, [rendition(3, 600, 800)])])
            data(client.post("/image/SaveCropedImages", json=body, headers=op_h))

            dead = add_item(
                engine, "SH2", url=f"{base}/gone.png", width=None, height=None
            )
            message = refused(claim(client, op_h, op), 400)
            assert f"image {dead}" in message and "HTTP 404" in message
            # The claim stands, so the operator can reject the broken image.
            body = save_body("SH2", op, [(dead, 4, 5, [])])
            rejected = data(
                client.post("/image/SaveCropedImages", json=body, headers=op_h)
            )
            assert rejected["Images"][0]["Status"] == 4


def test_a_rendition_without_an_image_takes_its_new_box_and_keeps_its_file(
    client: TestClient, token_for, engine: Engine, api_settings
) -> None:
    """Legacy: the crop metadata is updated; the image is uploaded again only when
    the request carries one."""
    op, op_h = token_for("operator")
    qa, qa_h = token_for("qa")
    image = add_item(engine, "SH1")
    data(claim(client, op_h, op))
    body = save_body("SH1", op, [(image, 2, None, standard_renditions())])
    data(client.post("/image/SaveCropedImages", json=body, headers=op_h))
    stored = (
        Path(api_settings.smartcrop_service.storage.local_root)
        / f"NBCU/SH1/{image}/16x9.png"
    )
    picture = stored.read_bytes()
    data(qa_claim(client, qa_h, qa, "SH1"))

    def review(box: dict) -> httpx.Response:
        moved = {"AspectRatioId": 1, "ImageBase64": None, **box}
        body = save_body("SH1", qa, [(image, 3, None, [moved])])
        return client.post("/image/UpdateCroppedImageInfo", json=body, headers=qa_h)

    before = snapshot(engine)
    outside = {"X": 1900, "Y": 0, "Width": 320, "Height": 180}
    assert "leaves the 2000x3000" in refused(review(outside), 400)
    off_ratio = {"X": 0, "Y": 0, "Width": 320, "Height": 200}
    assert "is not 16x9" in refused(review(off_ratio), 400)
    assert snapshot(engine) == before

    new_box = {"X": 10, "Y": 20, "Width": 320, "Height": 180}
    done = data(review(new_box))
    boxes = [
        (r["AspectRatio"], r["X"], r["Y"], r["Width"], r["Height"])
        for r in done["Images"][0]["Renditions"]
    ]
    assert boxes == [("16x9", 10, 20, 320, 180), ("1x1", 10, 20, 100, 100)]
    assert done["Images"][0]["Status"] == 3
    assert stored.read_bytes() == picture
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT cropx, cropy, cropwidth, cropheight, updatedby,"
                " storagekey FROM smartcrop_aspectratioimages"
                " WHERE programimageid = :id AND aspectratioid = 1"
            ),
            {"id": image},
        ).one()
    assert tuple(row) == (10, 20, 320, 180, qa, f"NBCU/SH1/{image}/16x9.png")
