"""The image workflow over HTTP (contract 4.1): a programme claimed, cropped, saved and
reviewed, with real tokens and a real database."""

from __future__ import annotations

import base64
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from smartcrop.workflow.qa_routing import bucket_of
from tests.support.contract_fields import (
    IMAGE_FIELDS,
    PROGRAMME_FIELDS,
    RENDITION_FIELDS,
)
from tests.support.work_items import add_item, audit_rows, snapshot, states
from tests.support.workflow_api import (
    claim,
    data,
    qa_claim,
    refused,
    rendition,
    save_body,
    standard_renditions,
)


def test_a_programme_through_operator_and_qa(
    client: TestClient, token_for, engine: Engine, api_settings
) -> None:
    op, op_h = token_for("operator")
    qa, qa_h = token_for("qa")
    a = add_item(engine, "SH012345670000", age=timedelta(hours=2))
    b = add_item(engine, "SH012345670000", image_type_id=None, language_id=None)
    add_item(engine, "SH999", age=timedelta(hours=1))

    programme = data(claim(client, op_h, op))
    assert set(programme) == PROGRAMME_FIELDS | {"LockExpiresAt"}  # claims only
    assert (programme["ProgramId"], programme["ProviderName"]) == (
        "SH012345670000",
        "NBCU",
    )
    assert programme["ProgramTitle"] == "Night Court"
    first, second = programme["Images"]
    # The contract's fields, plus the crop suggestions (smartcrop/suggest) beside them.
    assert set(first) == IMAGE_FIELDS | {"Suggestions", "LastComment", "SentBackBy"}
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
    assert [set(r) for r in rend] == [RENDITION_FIELDS] * 2
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
        assert set(programme) == PROGRAMME_FIELDS
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
