"""Refused image-workflow requests over HTTP (contract 4.1): each answers its status and
changes nothing; a bad rendition refuses the whole request."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.support.work_items import (
    add_item,
    add_rendition,
    image_b64,
    snapshot,
    states,
)
from tests.support.workflow_api import (
    client_for,
    data,
    refused,
    rendition,
    save_body,
    standard_renditions,
)


def test_refused_requests_change_nothing(
    client: TestClient, token_for, engine: Engine
) -> None:
    op, op_h = token_for("operator")
    other, other_h = token_for("operator")
    qa, qa_h = token_for("qa")
    mine = add_item(engine, "SH1", status=1, state=1, locked_by=op)
    theirs = add_item(engine, "SH2", status=1, state=1, locked_by=other)
    add_item(engine, "SH3", status=2)
    good = [rendition(1, 160, 90)]
    cases: list[tuple[str, str, dict | None, dict, int]] = [
        # (method, path, json, headers, status)
        (
            "GET",
            "/image/UpdateStatus?programId=SH2&status=2&currentState=0",
            None,
            op_h,
            409,
        ),
        (
            "GET",
            "/image/UpdateStatus?programId=SH1&status=3&currentState=1",
            None,
            op_h,
            409,
        ),
        (
            "GET",
            "/image/UpdateStatus?programId=SH1&status=1&currentState=1",
            None,
            op_h,
            409,
        ),
        (
            "GET",
            "/image/UpdateStatus?programId=SH1&status=9&currentState=0",
            None,
            op_h,
            400,
        ),
        (
            "GET",
            "/image/UpdateStatus?programId=SH1&status=4&currentState=0&rejectReasonId=99",
            None,
            op_h,
            400,
        ),
        (
            "GET",
            "/image/UpdateStatus?programId=SH1&status=x&currentState=0",
            None,
            op_h,
            400,
        ),
        (
            "GET",
            "/image/UpdateStatus?programId=SH1&status=2&currentState=0",
            None,
            qa_h,
            409,
        ),
        (
            "GET",
            "/image/UpdateStatus?programId=NOPE&status=2&currentState=0",
            None,
            op_h,
            404,
        ),
        (
            "GET",
            "/image/UpdateStatus?programId=&status=2&currentState=0",
            None,
            op_h,
            400,
        ),
        (
            "GET",
            "/image/UpdateStatus?programId=SH1&status=2&currentState=0",
            None,
            {},
            401,
        ),
        (
            "GET",
            "/image/UpdateStatus?programId=SH3&status=3&currentState=0",
            None,
            qa_h,
            409,
        ),
        (
            "POST",
            "/image/SaveCropedImages",
            save_body("SH2", op, [(theirs, 2, None, good)]),
            op_h,
            409,
        ),
        (
            "POST",
            "/image/SaveCropedImages",
            save_body("SH1", other, [(mine, 2, None, good)]),
            op_h,
            403,
        ),
        (
            "POST",
            "/image/SaveCropedImages",
            save_body("SH1", other, [(mine, 2, None, good)]),
            other_h,
            409,
        ),
        (
            "POST",
            "/image/SaveCropedImages",
            save_body("SH2", op, [(mine, 2, None, good)]),
            op_h,
            404,
        ),
        (
            "POST",
            "/image/SaveCropedImages",
            save_body("SH1", op, [(mine, 4, None, good)]),
            op_h,
            400,
        ),
        (
            "POST",
            "/image/SaveCropedImages",
            save_body("SH1", op, [(mine, 5, None, good)]),
            op_h,
            400,
        ),
        (
            "POST",
            "/image/SaveCropedImages",
            {"ProgramId": "SH1", "Images": "x"},
            op_h,
            422,
        ),
        (
            "POST",
            "/image/SaveCropedImages",
            {"ProgramId": "SH1", "Images": []},
            op_h,
            422,
        ),
        (
            "POST",
            "/image/SaveCropedImages",
            save_body("SH1", op, [(mine, 2, None, good)]),
            qa_h,
            403,
        ),
        (
            "POST",
            "/image/UpdateCroppedImageInfo",
            save_body("SH1", op, [(mine, 3, None, [])]),
            op_h,
            403,
        ),
        (
            "POST",
            "/image/UpdateCroppedImageInfo",
            save_body("SH1", qa, [(mine, 3, None, [])]),
            qa_h,
            409,
        ),
        (
            "GET",
            "/image/DeleteCroppedImageInfo?programId=SH2&id=1&imageid=" + str(theirs),
            None,
            op_h,
            409,
        ),
        (
            "GET",
            "/image/DeleteCroppedImageInfo?programId=SH1&id=1&imageid=" + str(mine),
            None,
            op_h,
            404,
        ),
        (
            "GET",
            "/image/DeleteCroppedImageInfo?programId=SH1&id=&imageid=" + str(mine),
            None,
            op_h,
            400,
        ),
        ("GET", f"/image/GetImageInfo?providerName=NBCU&user={other}", None, op_h, 403),
        ("GET", "/image/GetImageInfo?providerName=&user=", None, op_h, 400),
        ("GET", "/image/GetImageInfo?providerName=NBCU&user=abc", None, op_h, 400),
        ("GET", "/image/GetImageInfo?providerName=NBCU", None, qa_h, 403),
        ("GET", f"/image/GetCroppedImageInfo?programId=SH3&user={qa}", None, op_h, 403),
        ("GET", "/image/GetCroppedImageInfo?programId=SH1", None, qa_h, 409),
        ("GET", "/image/GetCroppedImageInfo?programId=NOPE", None, qa_h, 404),
        ("GET", f"/image/UpdateUserLockStatus?userId={op}", None, other_h, 403),
    ]
    before = snapshot(engine)
    for method, path, body, headers, status in cases:
        response = client.request(method, path, json=body, headers=headers)
        assert response.status_code == status, (
            path,
            body and body.get("Images"),
            response.text,
        )
        assert response.json()["IsSuccess"] is False
        assert snapshot(engine) == before, path


BAD_RENDITIONS = [
    (
        "not an image",
        {"ImageBase64": base64.b64encode(b"hello").decode()},
        "PNG or JPEG",
    ),
    ("gif", {"ImageBase64": image_b64(160, 90, "GIF")}, "PNG or JPEG"),
    ("bad base64", {"ImageBase64": "!!!not base64!!!"}, "base64"),
    ("wrong size", {"ImageBase64": image_b64(150, 90)}, "not the 160x90"),
    ("outside source", {"X": 1900}, "leaves the 2000x3000"),
    ("ratio off", {"Height": 100, "ImageBase64": image_b64(160, 100)}, "is not 16x9"),
    ("unknown ratio", {"AspectRatioId": 42}, "not an aspect ratio"),
    (
        "too big",
        {"Width": 400, "Height": 225, "ImageBase64": image_b64(400, 225, noise=True)},
        "larger than",
    ),
]


@pytest.mark.parametrize(("case", "change", "message"), BAD_RENDITIONS)
def test_a_bad_rendition_refuses_the_whole_request(
    token_for,
    engine: Engine,
    db_url: str,
    settings_for,
    case: str,
    change: dict,
    message: str,
) -> None:
    settings = settings_for(db_url, smartcrop_service={"max_rendition_bytes": 20000})
    op, op_h = token_for("operator")
    a = add_item(engine, "SH1", status=1, state=1, locked_by=op)
    b = add_item(engine, "SH1", status=1, state=1, locked_by=op)
    body = save_body(
        "SH1",
        op,
        [
            (a, 2, None, standard_renditions()),
            (b, 2, None, [{**rendition(1, 160, 90), **change}]),
        ],
    )
    before = snapshot(engine)
    with client_for(settings, db_url) as client:
        text_ = refused(
            client.post("/image/SaveCropedImages", json=body, headers=op_h), 400
        )
    assert message in text_ and f"image {b}" in text_, case
    assert snapshot(engine) == before
    root = Path(settings.smartcrop_service.storage.local_root)
    assert not root.exists() or not [p for p in root.rglob("*") if p.is_file()]


def test_finishing_or_approving_without_the_renditions_is_a_400_naming_them(
    token_for, engine: Engine, db_url: str, settings_for
) -> None:
    settings = settings_for(
        db_url, smartcrop_service={"required_aspect_ratios": ["16x9", "1x1"]}
    )
    op, op_h = token_for("operator")
    qa, qa_h = token_for("qa")
    bare = add_item(engine, "SH1", status=1, state=1, locked_by=op)
    half = add_item(engine, "SH2", status=2, state=1, locked_by=qa)
    add_rendition(engine, half, 1)
    with client_for(settings, db_url) as client:
        before = snapshot(engine)
        finish = save_body("SH1", op, [(bare, 2, None, [])])
        message = refused(
            client.post("/image/SaveCropedImages", json=finish, headers=op_h), 400
        )
        assert message.endswith(f"image {bare} has no rendition (needed: 16x9, 1x1)")
        path = "/image/UpdateStatus?programId=SH1&status=3&currentState=0"
        assert f"image {bare} has no rendition" in refused(
            client.get(path, headers=op_h), 400
        )
        approve = save_body("SH2", qa, [(half, 3, None, [])])
        message = refused(
            client.post("/image/UpdateCroppedImageInfo", json=approve, headers=qa_h),
            400,
        )
        assert message.endswith(
            f"image {half} has no rendition at the required aspect ratios 1x1"
        )
        path = "/image/UpdateStatus?programId=SH2&status=3&currentState=0"
        assert "aspect ratios 1x1" in refused(client.get(path, headers=qa_h), 400)
        assert snapshot(engine) == before

        # Rejecting needs no rendition; approving with the missing one sent does.
        reject = save_body("SH1", op, [(bare, 4, 1, [])])
        data(client.post("/image/SaveCropedImages", json=reject, headers=op_h))
        approve = save_body("SH2", qa, [(half, 3, None, [rendition(5, 100, 100)])])
        done = data(
            client.post("/image/UpdateCroppedImageInfo", json=approve, headers=qa_h)
        )
    assert done["Images"][0]["Status"] == 3
    assert states(engine, bare, half) == [(4, 0, None), (3, 0, None)]
