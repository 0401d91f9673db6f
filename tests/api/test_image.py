"""The image workflow over HTTP (contract 4.1), with real tokens and a real database."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from smartcrop.identity.tokens import issue_token
from smartcrop.workflow.qa_routing import bucket_of
from tests.support.image_server import allowing, png, serve
from tests.support.s3_server import ACCESS_KEY, REGION, SECRET_KEY
from tests.support.work_items import (
    add_item,
    add_rendition,
    add_user,
    age_locks,
    audit_rows,
    engine_for,
    image_b64,
    snapshot,
    states,
)
from tests.support.workflow_api import (
    client_for,
    live_server,
    rendition,
    save_body,
    standard_renditions,
)

PROGRAMME_KEYS = {"ProgramId", "ProviderName", "ProgramTitle", "Images"}
IMAGE_KEYS = {
    "ImageId",
    "ImageUrl",
    "ImageTypeId",
    "ImageType",
    "LanguageId",
    "Language",
    "Width",
    "Height",
    "Status",
    "CurrentState",
    "LockedBy",
    "RejectReasonId",
    "Notes",
    "Renditions",
}
RENDITION_KEYS = {
    "AspectRatioId",
    "AspectRatio",
    "X",
    "Y",
    "Width",
    "Height",
    "Url",
    "ImageBase64",
}


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    with engine_for(db_url) as engine:
        yield engine


def claim(client: TestClient, headers: dict, user: int, provider: str = "NBCU"):
    return client.get(
        "/image/GetImageInfo",
        params={"providerName": provider, "user": user},
        headers=headers,
    )


def qa_claim(client: TestClient, headers: dict, user: int, program_id: str = ""):
    return client.get(
        "/image/GetCroppedImageInfo",
        params={"programId": program_id, "user": user},
        headers=headers,
    )


def data(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["IsSuccess"] is True and body["StatusCode"] == 200
    return body["Data"]


def refused(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["IsSuccess"] is False and body["StatusCode"] == status
    assert body["Data"] is None
    return body["Message"]


def test_a_programme_through_operator_and_qa(
    client: TestClient, token_for, engine: Engine, api_settings
) -> None:
    op, op_h = token_for("operator")
    qa, qa_h = token_for("qa")
    a = add_item(engine, "SH012345670000", age=timedelta(hours=2))
    b = add_item(engine, "SH012345670000", image_type_id=None, language_id=None)
    add_item(engine, "SH999", age=timedelta(hours=1))

    programme = data(claim(client, op_h, op))
    assert set(programme) == PROGRAMME_KEYS | {"LockExpiresAt"}  # claims only
    assert (programme["ProgramId"], programme["ProviderName"]) == (
        "SH012345670000",
        "NBCU",
    )
    assert programme["ProgramTitle"] == "Night Court"
    first, second = programme["Images"]
    # The contract's fields, plus the crop suggestions (smartcrop/suggest) beside them.
    assert set(first) == IMAGE_KEYS | {"Suggestions", "LastComment", "SentBackBy"}
    assert first["ImageId"] == a and second["ImageId"] == b
    assert (first["ImageType"], first["Language"], first["Notes"]) == (
        "Poster",
        "English",
        "",
    )
    assert (first["Width"], first["Height"]) == (2000, 3000)
    assert (first["Status"], first["CurrentState"], first["LockedBy"]) == (1, 1, op)
    assert first["Renditions"] == [] and first["RejectReasonId"] is None

    body = save_body(
        "SH012345670000",
        op,
        [(a, 2, None, standard_renditions()), (b, 2, None, [rendition(1, 320, 180)])],
    )
    saved = data(client.post("/image/SaveCropedImages", json=body, headers=op_h))
    assert [i["Status"] for i in saved["Images"]] == [2, 2]  # QA on, no rule
    assert [i["CurrentState"] for i in saved["Images"]] == [0, 0]
    rend = saved["Images"][0]["Renditions"]
    assert [set(r) for r in rend] == [RENDITION_KEYS] * 2
    assert [(r["AspectRatio"], r["Width"], r["Height"]) for r in rend] == [
        ("16x9", 160, 90),
        ("1x1", 100, 100),
    ]
    assert rend[0]["Url"] == (
        f"http://127.0.0.1:8000/renditions/NBCU/SH012345670000/{a}/16x9.png"
    )
    assert rend[1]["Url"].endswith(f"/{a}/1x1.jpg")
    assert rend[0]["ImageBase64"] is None

    # The local backend serves what it stored under /renditions.
    served = client.get(rend[0]["Url"].removeprefix("http://127.0.0.1:8000"))
    assert served.status_code == 200
    assert served.content == base64.b64decode(
        body["Images"][0]["Renditions"][0]["ImageBase64"]
    )

    review = data(qa_claim(client, qa_h, qa))
    assert review["ProgramId"] == "SH012345670000"
    assert [i["LockedBy"] for i in review["Images"]] == [qa, qa]
    sent = body["Images"][0]["Renditions"]
    got = review["Images"][0]["Renditions"]
    assert [r["ImageBase64"] for r in got] == [r["ImageBase64"] for r in sent]

    # QA replaces one picture and keeps the other as stored.
    new_16x9 = rendition(1, 320, 180)
    approve = save_body(
        "SH012345670000",
        qa,
        [
            (a, 3, None, [new_16x9, {**sent[1], "ImageBase64": None}]),
            (b, 3, None, []),
        ],
    )
    done = data(
        client.post("/image/UpdateCroppedImageInfo", json=approve, headers=qa_h)
    )
    assert [(i["Status"], i["CurrentState"]) for i in done["Images"]] == [(3, 0)] * 2
    assert [(r["Width"], r["Height"]) for r in done["Images"][0]["Renditions"]] == [
        (320, 180),
        (100, 100),
    ]
    root = Path(api_settings.smartcrop_service.storage.local_root)
    stored = root / "NBCU" / "SH012345670000" / str(a) / "16x9.png"
    assert stored.read_bytes() == base64.b64decode(new_16x9["ImageBase64"])
    assert [r["action"] for r in audit_rows(engine, a)] == [
        "claim",
        "finish",
        "qa_claim",
        "approve",
    ]
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT croppedby, reviewedby, completedby FROM smartcrop_programimage"
                " WHERE id = :id"
            ),
            {"id": a},
        ).one()
    assert tuple(row) == (op, qa, qa)


def test_empty_queues_answer_no_images_pending(client: TestClient, token_for) -> None:
    op, op_h = token_for("operator")
    qa, qa_h = token_for("qa")
    for response in (claim(client, op_h, op), qa_claim(client, qa_h, qa)):
        assert response.status_code == 200
        assert response.json() == {
            "IsSuccess": True,
            "StatusCode": 200,
            "Message": "No images pending",
            "Data": None,
        }


def test_qa_disabled_sends_finished_work_straight_to_completed(
    client: TestClient, token_for, engine: Engine
) -> None:
    _, admin_h = token_for("admin")
    op, op_h = token_for("operator")
    image = add_item(engine, "SH1")
    assert client.get("/role/QCdisable?status=1", headers=admin_h).status_code == 200
    data(claim(client, op_h, op))
    body = save_body("SH1", op, [(image, 2, None, standard_renditions())])
    saved = data(client.post("/image/SaveCropedImages", json=body, headers=op_h))
    assert saved["Images"][0]["Status"] == 3
    assert states(engine, image) == [(3, 0, None)]


@pytest.mark.parametrize("percentage", [0, 40, 100])
def test_a_qa_rule_sends_a_stable_share_of_programmes_to_qa(
    client: TestClient, token_for, engine: Engine, percentage: int
) -> None:
    _, admin_h = token_for("admin")
    op, op_h = token_for("operator")
    rule = client.post(
        "/rule/Create", json={"Status": 2, "Percentage": percentage}, headers=admin_h
    )
    assert rule.status_code == 200, rule.text
    programmes = [f"EP{n:04d}" for n in range(12)]
    for n, pid in enumerate(programmes):
        add_item(engine, pid, age=timedelta(minutes=100 - n))
    routed = {}
    for _ in programmes:
        programme = data(claim(client, op_h, op))
        image = programme["Images"][0]["ImageId"]
        finished = [(image, 3, None, [rendition(1, 160, 90)])]
        body = save_body(programme["ProgramId"], op, finished)
        saved = data(client.post("/image/SaveCropedImages", json=body, headers=op_h))
        routed[programme["ProgramId"]] = saved["Images"][0]["Status"]
    expected = {pid: 2 if bucket_of(pid) < percentage else 3 for pid in programmes}
    assert routed == expected
    if percentage == 40:
        assert set(routed.values()) == {2, 3}  # these ids do split both ways


def test_send_back_and_rejects_carry_their_reasons(
    client: TestClient, token_for, engine: Engine
) -> None:
    op, op_h = token_for("operator")
    qa, qa_h = token_for("qa")
    images = [add_item(engine, "SH1") for _ in range(3)]
    data(claim(client, op_h, op))
    body = save_body("SH1", op, [(i, 2, None, standard_renditions()) for i in images])
    data(client.post("/image/SaveCropedImages", json=body, headers=op_h))
    data(qa_claim(client, qa_h, qa, "SH1"))

    missing_reason = save_body("SH1", qa, [(images[0], 1, None, [])])
    before = snapshot(engine)
    message = refused(
        client.post("/image/UpdateCroppedImageInfo", json=missing_reason, headers=qa_h),
        400,
    )
    assert "RejectReasonId" in message
    assert snapshot(engine) == before

    review = save_body(
        "SH1",
        qa,
        [(images[0], 1, 2, []), (images[1], 4, 4, []), (images[2], 3, None, [])],
    )
    done = data(client.post("/image/UpdateCroppedImageInfo", json=review, headers=qa_h))
    assert [(i["Status"], i["RejectReasonId"]) for i in done["Images"]] == [
        (1, 2),
        (4, 4),
        (3, None),
    ]
    # The operator gets the sent-back image again, with the reason it came back.
    again = data(claim(client, op_h, op))
    assert [(i["ImageId"], i["RejectReasonId"]) for i in again["Images"]] == [
        (images[0], 2)
    ]
    assert len(again["Images"][0]["Renditions"]) == 2  # the earlier crops are kept
    rejected = save_body("SH1", op, [(images[0], 4, 5, [])])
    data(client.post("/image/SaveCropedImages", json=rejected, headers=op_h))
    assert states(engine, *images) == [(4, 0, None), (4, 0, None), (3, 0, None)]
    actions = [
        (r["action"], r["rejectreasonid"]) for r in audit_rows(engine, images[0])
    ]
    assert actions == [
        ("claim", None),
        ("finish", None),
        ("qa_claim", None),
        ("send_back", 2),
        ("claim", None),
        ("reject", 5),
    ]


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


def test_update_status_by_the_holder_and_the_admin_unlock(
    client: TestClient, token_for, engine: Engine
) -> None:
    _, admin_h = token_for("admin")
    op, op_h = token_for("operator")
    qa, qa_h = token_for("qa")
    a = add_item(engine, "SH1", age=timedelta(hours=1))
    b = add_item(engine, "SH1")
    for image in (a, b):
        add_rendition(engine, image)  # finishing needs one
    data(claim(client, op_h, op))
    moved = data(
        client.get(
            "/image/UpdateStatus?programId=SH1&status=3&currentState=0", headers=op_h
        )
    )
    assert [(i["Status"], i["CurrentState"]) for i in moved["Images"]] == [(2, 0)] * 2

    data(qa_claim(client, qa_h, qa))
    c = add_item(engine, "SH2")
    data(claim(client, op_h, op))
    assert states(engine, a, b, c) == [(2, 1, qa), (2, 1, qa), (1, 1, op)]
    released = data(
        client.get(f"/image/UpdateUserLockStatus?userId={qa}", headers=admin_h)
    )
    assert released == {"UserId": qa, "ReleasedImages": 2}
    own = data(client.get(f"/image/UpdateUserLockStatus?userId={op}", headers=op_h))
    assert own == {"UserId": op, "ReleasedImages": 1}
    assert states(engine, a, b, c) == [(2, 0, None), (2, 0, None), (1, 0, None)]
    assert audit_rows(engine, a)[-1]["action"] == "admin_release"
    assert audit_rows(engine, c)[-1]["action"] == "release"


def test_qa_send_back_and_reject_through_update_status(
    client: TestClient, token_for, engine: Engine
) -> None:
    qa, qa_h = token_for("qa")
    a = add_item(engine, "SH1", status=2)
    b = add_item(engine, "SH2", status=2)
    data(qa_claim(client, qa_h, qa, "SH1"))
    path = "/image/UpdateStatus?programId=SH1&status=1&currentState=0"
    assert "not a reject reason" in refused(
        client.get(path + "&rejectReasonId=99", headers=qa_h), 400
    )
    data(client.get(path + "&rejectReasonId=3", headers=qa_h))
    assert states(engine, a) == [(1, 0, None)]
    assert audit_rows(engine, a)[-1]["rejectreasonid"] == 3
    data(qa_claim(client, qa_h, qa, "SH2"))
    path = "/image/UpdateStatus?programId=SH2&status=4&currentState=0"
    rejected = data(client.get(path + "&rejectReasonId=2", headers=qa_h))
    assert (
        rejected["Images"][0]["Status"],
        rejected["Images"][0]["RejectReasonId"],
    ) == (
        4,
        2,
    )
    assert states(engine, b) == [(4, 0, None)]


@pytest.mark.parametrize(
    ("stage", "status", "action"),
    [(1, 4, "reject"), (2, 4, "qa_reject"), (2, 1, "send_back")],
)
def test_update_status_rejects_and_sends_back_without_a_reason_as_legacy_callers_do(
    client: TestClient, token_for, engine: Engine, stage: int, status: int, action: str
) -> None:
    """Legacy callers send no rejectReasonId: the move records "Other" (7)."""
    user, headers = token_for("operator" if stage == 1 else "qa")
    image = add_item(engine, "SH1", status=stage, state=1, locked_by=user)
    moved = data(
        client.get(
            f"/image/UpdateStatus?programId=SH1&status={status}&currentState=0",
            headers=headers,
        )
    )
    [answered] = moved["Images"]
    assert (answered["Status"], answered["RejectReasonId"]) == (status, 7)
    assert states(engine, image) == [(status, 0, None)]
    last = audit_rows(engine, image)[-1]
    assert (last["action"], last["rejectreasonid"]) == (action, 7)


def test_an_expired_lock_is_taken_over_and_its_holder_refused(
    client: TestClient, token_for, engine: Engine
) -> None:
    alice, alice_h = token_for("operator")
    bob, bob_h = token_for("operator")
    image = add_item(engine, "SH1")
    data(claim(client, alice_h, alice))
    assert claim(client, bob_h, bob).json()["Data"] is None
    age_locks(engine, 29, image)
    assert claim(client, bob_h, bob).json()["Data"] is None  # not yet
    body = save_body("SH1", alice, [(image, 2, None, standard_renditions())])
    age_locks(engine, 2, image)  # now 31 minutes old
    before = snapshot(engine)
    assert "expired" in refused(
        client.post("/image/SaveCropedImages", json=body, headers=alice_h), 409
    )
    assert snapshot(engine) == before
    taken = data(claim(client, bob_h, bob))
    assert taken["Images"][0]["LockedBy"] == bob
    assert "another user" in refused(
        client.post("/image/SaveCropedImages", json=body, headers=alice_h), 409
    )
    expire = [r for r in audit_rows(engine, image) if r["action"] == "expire"]
    assert len(expire) == 1 and expire[0]["userid"] is None


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
        # tests/security/test_ssrf.py).
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


def test_sixteen_operators_claiming_at_once_over_http_never_share_a_programme(
    engine: Engine, api_settings, db_url: str
) -> None:
    expected: dict[str, list[int]] = {}
    for n in range(12):
        pid = f"SH{n:03d}"
        expected[pid] = [
            add_item(engine, pid, age=timedelta(minutes=100 - n, seconds=k))
            for k in range(3)
        ]
    # Sixteen logins would spend most of this test hashing passwords: these users
    # get their (real, signed) tokens from the same function login uses.
    settings = api_settings
    users = []
    for _ in range(16):
        user = add_user(engine, "operator")
        token = issue_token(settings, user_id=user, role="operator", token_version=1)
        users.append((user, {"Authorization": f"Bearer {token}"}))
    barrier = threading.Barrier(len(users))
    results: dict[int, httpx.Response] = {}
    with live_server(create_app(settings, db_url)) as base:

        def run(user: int, headers: dict) -> None:
            with httpx.Client(base_url=base, timeout=60) as http:
                barrier.wait()
                results[user] = http.get(
                    "/image/GetImageInfo",
                    params={"providerName": "NBCU", "user": user},
                    headers=headers,
                )

        threads = [threading.Thread(target=run, args=u) for u in users]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    assert len(results) == 16
    got: dict[str, tuple[int, list[int]]] = {}
    empty = 0
    for user, response in results.items():
        programme = data(response)
        if programme is None:
            empty += 1
            continue
        assert programme["ProgramId"] not in got, "a programme was claimed twice"
        ids = [i["ImageId"] for i in programme["Images"]]
        assert {i["LockedBy"] for i in programme["Images"]} == {user}
        got[programme["ProgramId"]] = (user, ids)
    assert empty == 4
    assert {pid: ids for pid, (_, ids) in got.items()} == expected
    for pid, (user, ids) in got.items():
        assert states(engine, *ids) == [(1, 1, user)] * 3, pid


def test_an_admin_may_claim_for_an_operator(
    client: TestClient, token_for, engine: Engine
) -> None:
    admin, admin_h = token_for("admin")
    op, _ = token_for("operator")
    image = add_item(engine, "SH1")
    refused(claim(client, admin_h, 999999), 404)
    programme = data(claim(client, admin_h, op))
    assert programme["Images"][0]["LockedBy"] == op
    [row] = audit_rows(engine, image)
    assert (row["userid"], row["details"]) == (admin, {"for_user": op})


def test_every_write_answers_the_whole_programme(
    client: TestClient, token_for, engine: Engine
) -> None:
    """Contract 4.1: ``Data`` is the Programme after the write, every image of it,
    not only the images the request named or moved."""
    op, op_h = token_for("operator")
    qa, qa_h = token_for("qa")
    a = add_item(engine, "SH1", age=timedelta(hours=2))
    b = add_item(engine, "SH1", age=timedelta(hours=1))
    done = add_item(engine, "SH1", status=3)
    add_item(engine, "SH2")

    def images(programme: dict) -> list[tuple[int, int, int, int | None]]:
        assert set(programme) == PROGRAMME_KEYS
        assert programme["ProgramId"] == "SH1"
        return [
            (i["ImageId"], i["Status"], i["CurrentState"], i["LockedBy"])
            for i in programme["Images"]
        ]

    assert [i["ImageId"] for i in data(claim(client, op_h, op))["Images"]] == [a, b]
    body = save_body("SH1", op, [(a, 2, None, standard_renditions())])
    saved = data(client.post("/image/SaveCropedImages", json=body, headers=op_h))
    assert images(saved) == [(a, 2, 0, None), (b, 1, 1, op), (done, 3, 0, None)]
    assert len(saved["Images"][0]["Renditions"]) == 2

    path = "/image/UpdateStatus?programId=SH1&status=4&currentState=0"
    moved = data(client.get(path + "&rejectReasonId=1", headers=op_h))
    assert images(moved) == [(a, 2, 0, None), (b, 4, 0, None), (done, 3, 0, None)]

    data(qa_claim(client, qa_h, qa, "SH1"))
    approve = save_body("SH1", qa, [(a, 3, None, [])])
    reviewed = data(
        client.post("/image/UpdateCroppedImageInfo", json=approve, headers=qa_h)
    )
    assert images(reviewed) == [(a, 3, 0, None), (b, 4, 0, None), (done, 3, 0, None)]


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


def test_an_operator_typing_the_provider_in_another_case_gets_its_queue(
    client: TestClient, token_for, engine: Engine
) -> None:
    op, op_h = token_for("operator")
    image = add_item(engine, "SH1", "NBCU")
    programme = data(claim(client, op_h, op, provider="nbcu"))
    assert (
        programme["ProviderName"] == "NBCU"
    )  # the stored name, as the manifest had it
    assert [i["ImageId"] for i in programme["Images"]] == [image]
    assert data(claim(client, op_h, op, provider="Nbcu"))["ProgramId"] == "SH1"


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
