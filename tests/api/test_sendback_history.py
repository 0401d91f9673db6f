"""Send-back with a comment and a programme's History, over HTTP (issue 17).

One programme goes claim, finish, qa_claim, send_back (with a comment), claim,
finish, qa_claim, approve; its History lists exactly those moves, the comment is in
the Programme answers and in the audit dump, neutralised there.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from smartcrop.db import get_engine
from smartcrop.exports import dumps
from tests.support.work_items import add_item, add_rendition, snapshot
from tests.support.workflow_api import client_for, data, refused, save_body

COMMENT = '=HYPERLINK("https://evil.example.com","The 16x9 cuts the title off")'
OTHER = 7  # reject reason "Other"


def claim(client: TestClient, headers: dict[str, str]) -> Any:
    return data(
        client.get(
            "/image/GetImageInfo", params={"providerName": "NBCU"}, headers=headers
        )
    )


def update(client: TestClient, headers: dict[str, str], **params: Any) -> Any:
    return client.get(
        "/image/UpdateStatus",
        params={"programId": "SH1", "currentState": 0, **params},
        headers=headers,
    )


def history(client: TestClient, headers: dict[str, str], program_id: str = "SH1"):
    return client.get(
        "/image/History", params={"programId": program_id}, headers=headers
    )


def test_a_send_back_with_a_comment_and_the_programmes_history(
    client: TestClient, token_for, engine: Engine, api_settings, db_url: str
) -> None:
    olga, olga_h = token_for("operator", name="Olga")
    bob, bob_h = token_for("operator", name="Bob")
    quinn, quinn_h = token_for("qa", name="Quinn")
    image = add_item(engine, "SH1")
    add_rendition(engine, image)

    assert claim(client, olga_h)["ProgramId"] == "SH1"
    data(update(client, olga_h, status=2))
    review = data(
        client.get(
            "/image/GetCroppedImageInfo", params={"programId": "SH1"}, headers=quinn_h
        )
    )
    assert review["Images"][0]["SentBackBy"] is None
    sent = data(
        update(client, quinn_h, status=1, rejectReasonId=OTHER, comment=COMMENT)
    )
    [sent_image] = sent["Images"]
    assert (sent_image["Status"], sent_image["RejectReasonId"]) == (1, OTHER)
    assert sent_image["LastComment"] == COMMENT  # JSON carries it as written
    assert sent_image["SentBackBy"] == {"UserId": quinn, "UserName": "Quinn"}

    # Within the affinity window (60 minutes by default) Bob does not get it; Olga
    # does, with QA's comment.
    response = client.get(
        "/image/GetImageInfo", params={"providerName": "NBCU"}, headers=bob_h
    )
    assert data(response) is None and response.json()["Message"] == "No images pending"
    again = claim(client, olga_h)
    assert again["Images"][0]["LastComment"] == COMMENT
    assert again["Images"][0]["SentBackBy"]["UserId"] == quinn
    data(update(client, olga_h, status=2))
    client.get("/image/GetCroppedImageInfo", params={"programId": ""}, headers=quinn_h)
    done = data(update(client, quinn_h, status=3))
    assert done["Images"][0]["Status"] == 3
    assert done["Images"][0]["LastComment"] == COMMENT  # it was sent back once

    moves = data(history(client, quinn_h))
    assert moves["ProgramId"] == "SH1"
    assert [
        (
            e["ImageId"],
            e["Action"],
            e["UserId"],
            e["UserName"],
            (e["FromStatus"], e["FromState"]),
            (e["ToStatus"], e["ToState"]),
            e["RejectReasonId"],
            e["RejectReason"],
            e["Comment"],
        )
        for e in moves["Entries"]
    ] == [
        (image, "claim", olga, "Olga", (1, 0), (1, 1), None, None, None),
        (image, "finish", olga, "Olga", (1, 1), (2, 0), None, None, None),
        (image, "qa_claim", quinn, "Quinn", (2, 0), (2, 1), None, None, None),
        (image, "send_back", quinn, "Quinn", (2, 1), (1, 0), OTHER, "Other", COMMENT),
        (image, "claim", olga, "Olga", (1, 0), (1, 1), None, None, None),
        (image, "finish", olga, "Olga", (1, 1), (2, 0), None, None, None),
        (image, "qa_claim", quinn, "Quinn", (2, 0), (2, 1), None, None, None),
        (image, "approve", quinn, "Quinn", (2, 1), (3, 0), None, None, None),
    ]
    times = [datetime.fromisoformat(e["At"]) for e in moves["Entries"]]
    assert times == sorted(times) and all(t.utcoffset() is not None for t in times)
    ids = [e["AuditId"] for e in moves["Entries"]]
    assert ids == sorted(ids)

    # The operator who worked on it may read it; another operator may not.
    assert data(history(client, olga_h)) == moves
    assert "worked on it" in refused(history(client, bob_h), 403)
    _, admin_h = token_for("admin")
    assert data(history(client, admin_h)) == moves
    refused(history(client, quinn_h, "SH404"), 404)
    refused(client.get("/image/History", headers=quinn_h), 400)

    # The audit dump carries the comment, neutralised as any text a spreadsheet
    # would run.
    written = dumps.write_dumps(api_settings, get_engine(db_url), 1, datetime.now(UTC))
    [audit] = [path for kind, path, _, _ in written if kind == "audit"]
    with audit.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["comment"] for r in rows if r["action"] == "send_back"] == ["'" + COMMENT]
    assert {r["comment"] for r in rows if r["action"] != "send_back"} == {""}


def test_a_comment_over_1000_characters_is_a_400_and_changes_nothing(
    client: TestClient, token_for, engine: Engine, api_settings, db_url: str
) -> None:
    olga, olga_h = token_for("operator")
    quinn, quinn_h = token_for("qa")
    image = add_item(engine, "SH1")
    add_rendition(engine, image)
    claim(client, olga_h)
    data(update(client, olga_h, status=2))
    client.get(
        "/image/GetCroppedImageInfo", params={"programId": "SH1"}, headers=quinn_h
    )
    before = snapshot(engine)

    long = "x" * 1001
    message = refused(update(client, quinn_h, status=1, comment=long), 400)
    assert "1001 characters" in message
    body = save_body("SH1", quinn, [(image, 1, OTHER, [])])
    body["Images"][0]["Comment"] = long
    refused(
        client.post("/image/UpdateCroppedImageInfo", json=body, headers=quinn_h), 400
    )
    # A comment goes with a send-back or a reject, not with an approval.
    refused(update(client, quinn_h, status=3, comment="Lovely"), 400)
    assert snapshot(engine) == before

    # A QA save rejects with a comment; the dump neutralises a leading "+" too.
    body["Images"][0].update(Status=4, Comment="+cmd|' /C calc'!A0")
    rejected = data(
        client.post("/image/UpdateCroppedImageInfo", json=body, headers=quinn_h)
    )
    assert rejected["Images"][0]["Status"] == 4
    entries = data(history(client, quinn_h))["Entries"]
    assert [(e["Action"], e["Comment"]) for e in entries][-1] == (
        "qa_reject",
        "+cmd|' /C calc'!A0",
    )
    written = dumps.write_dumps(api_settings, get_engine(db_url), 1, datetime.now(UTC))
    [audit] = [path for kind, path, _, _ in written if kind == "audit"]
    with audit.open(newline="", encoding="utf-8") as handle:
        comments = [row["comment"] for row in csv.DictReader(handle)]
    assert comments[-1] == "'+cmd|' /C calc'!A0"


def test_the_affinity_setting_at_zero_offers_a_sent_back_programme_to_anyone(
    token_for, engine: Engine, settings_for, db_url: str
) -> None:
    settings = settings_for(db_url, smartcrop_service={"sendback_affinity_minutes": 0})
    assert settings.smartcrop_service.sendback_affinity_minutes == 0
    with client_for(settings, db_url) as client:
        _, olga_h = token_for("operator")
        bob, bob_h = token_for("operator")
        _, quinn_h = token_for("qa")
        image = add_item(engine, "SH1")
        add_rendition(engine, image)
        claim(client, olga_h)
        data(update(client, olga_h, status=2))
        client.get(
            "/image/GetCroppedImageInfo", params={"programId": "SH1"}, headers=quinn_h
        )
        data(update(client, quinn_h, status=1, comment="Again, please"))
        taken = claim(client, bob_h)
        assert taken["Images"][0]["LockedBy"] == bob
        assert taken["Images"][0]["LastComment"] == "Again, please"
