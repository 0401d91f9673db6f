"""`GET /report/TeamStats` and its XLSX: exact figures on a known audit trail.

The trail is written with the times chosen (the audit takes INSERTs), in the order
the moves happened, so ids follow time as they do in production."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine, text

from smartcrop.reporting import TEAM_STATS_HEADER
from tests.support.work_items import add_item
from tests.support.workflow_api import data, refused, save_body, standard_renditions

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MOVES = {  # action -> (from status, from state, to status, to state)
    "claim": (1, 0, 1, 1),
    "release": (1, 1, 1, 0),
    "finish": (1, 1, 2, 0),
    "finish_done": (1, 1, 3, 0),
    "reject": (1, 1, 4, 0),
    "qa_claim": (2, 0, 2, 1),
    "approve": (2, 1, 3, 0),
    "send_back": (2, 1, 1, 0),
    "qa_reject": (2, 1, 4, 0),
}


def at(day: int, hhmm: str) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def write_trail(engine: Engine, moves: list[tuple], renditions: list[tuple]) -> None:
    """moves: (when, image, user, move, for_user); renditions: (image, ratio, user,
    when). Audit rows go in in time order."""
    with engine.begin() as conn:
        for when, image, user, move, for_user in sorted(moves, key=lambda m: m[0]):
            conn.execute(
                text(
                    "INSERT INTO smartcrop_programimage_audit (programimageid,"
                    " link_object_id, userid, action, fromstatus, fromstate, tostatus,"
                    " tostate, rejectreasonid, details, createdat)"
                    " SELECT id, link_object_id, :user, :action, :fs, :fst, :ts, :tst,"
                    " :reason, CAST(:details AS jsonb), :when"
                    " FROM smartcrop_programimage WHERE id = :image"
                ),
                {
                    "image": image,
                    "user": user,
                    "action": move.removesuffix("_done"),
                    **dict(zip(("fs", "fst", "ts", "tst"), MOVES[move], strict=True)),
                    "reason": (
                        7 if move in ("send_back", "qa_reject", "reject") else None
                    ),
                    "details": f'{{"for_user": {for_user}}}' if for_user else "{}",
                    "when": when,
                },
            )
        for image, ratio, user, when in renditions:
            conn.execute(
                text(
                    "INSERT INTO smartcrop_aspectratioimages (programimageid,"
                    " link_object_id, aspectratioid, cropx, cropy, cropwidth,"
                    " cropheight, storagekey, imageurl, createdby, updatedby,"
                    " createdat, updatedat)"
                    " SELECT id, link_object_id, :ratio, 0, 0, 160, 90, 'k', 'u',"
                    " :user, :user, :when, :when"
                    " FROM smartcrop_programimage WHERE id = :image"
                ),
                {"image": image, "ratio": ratio, "user": user, "when": when},
            )


@pytest.fixture
def scenario(client: TestClient, token_for, make_user, engine: Engine) -> dict:
    """Ann and Bob crop, Quinn reviews, an admin acts for Ann once (2 and 3 March):

    - image 1: Ann claims 09:00, finishes 09:01 (60 s); Quinn approves.
    - image 2 (same programme): Ann finishes 09:03 (180 s); Quinn sends it back;
      Bob claims 11:00, finishes 11:10 (600 s); Quinn approves on 3 March.
    - image 3 (TMDB): Ann claims 09:10, finishes 09:15 (300 s); Quinn rejects it.
    - image 4: Ann claims 09:05, releases 09:06, claims 09:20, finishes 09:30 (600 s
      from the last claim); QA skipped (completed at once).
    - image 5: on 3 March an admin claims it for Ann 08:00 and finishes it 08:02.
    - image 6: Bob claims 13:00 and rejects it himself 13:05 (not a finish).
    """
    ann = make_user("operator", name="Ann")[0]
    bob = make_user("operator", name="Bob")[0]
    quinn = make_user("qa", name="Quinn")[0]
    admin = make_user("admin", name="Zed")[0]
    img = {
        1: add_item(engine, "SH1"),
        2: add_item(engine, "SH1"),
        3: add_item(engine, "SH2", "TMDB"),
        4: add_item(engine, "SH3"),
        5: add_item(engine, "SH4"),
        6: add_item(engine, "SH5"),
    }
    moves = [
        (at(2, "09:00"), img[1], ann, "claim", None),
        (at(2, "09:00"), img[2], ann, "claim", None),
        (at(2, "09:01"), img[1], ann, "finish", None),
        (at(2, "09:03"), img[2], ann, "finish", None),
        (at(2, "10:00"), img[1], quinn, "qa_claim", None),
        (at(2, "10:02"), img[1], quinn, "approve", None),
        (at(2, "10:04"), img[2], quinn, "qa_claim", None),
        (at(2, "10:05"), img[2], quinn, "send_back", None),
        (at(2, "11:00"), img[2], bob, "claim", None),
        (at(2, "11:10"), img[2], bob, "finish", None),
        (at(3, "11:59"), img[2], quinn, "qa_claim", None),
        (at(3, "12:00"), img[2], quinn, "approve", None),
        (at(2, "09:10"), img[3], ann, "claim", None),
        (at(2, "09:15"), img[3], ann, "finish", None),
        (at(2, "10:09"), img[3], quinn, "qa_claim", None),
        (at(2, "10:10"), img[3], quinn, "qa_reject", None),
        (at(2, "09:05"), img[4], ann, "claim", None),
        (at(2, "09:06"), img[4], ann, "release", None),
        (at(2, "09:20"), img[4], ann, "claim", None),
        (at(2, "09:30"), img[4], ann, "finish_done", None),
        (at(3, "08:00"), img[5], admin, "claim", ann),
        (at(3, "08:02"), img[5], admin, "finish", ann),
        (at(2, "13:00"), img[6], bob, "claim", None),
        (at(2, "13:05"), img[6], bob, "reject", None),
    ]
    renditions = [
        (img[1], 1, ann, at(2, "09:01")),
        (img[1], 5, ann, at(2, "09:01")),
        (img[2], 1, bob, at(2, "11:10")),  # saved again by Bob: his, not Ann's
        (img[2], 5, bob, at(2, "11:10")),
        (img[3], 1, ann, at(2, "09:15")),
        (img[4], 1, ann, at(2, "09:30")),
        (img[5], 1, ann, at(3, "08:02")),
    ]
    write_trail(engine, moves, renditions)
    return {"ann": ann, "bob": bob, "quinn": quinn, "qa_h": token_for("qa")[1]}


def row(day: str, user: int, name: str, role: str, **figures: Any) -> dict:
    base = {
        "ImagesFinished": 0,
        "RenditionsSaved": 0,
        "MedianSecondsToFinish": None,
        "P90SecondsToFinish": None,
        "SentBackOrRejected": 0,
        "SentBackShare": None,
        "ImagesReviewed": 0,
    }
    return {
        "Day": day,
        "UserId": user,
        "UserName": name,
        "RoleName": role,
        **base,
        **figures,
    }


def stats(client: TestClient, headers: dict, **params: str) -> list[dict]:
    return data(client.get("/report/TeamStats", params=params, headers=headers))


def test_team_stats_of_a_known_scenario(client: TestClient, scenario: dict) -> None:
    ann, bob, quinn = scenario["ann"], scenario["bob"], scenario["quinn"]
    ann_0302 = row(
        "2026-03-02",
        ann,
        "Ann",
        "operator",
        ImagesFinished=4,
        RenditionsSaved=4,
        MedianSecondsToFinish=240.0,  # of 60, 180, 300, 600
        P90SecondsToFinish=510.0,  # 300 + 0.7 x (600 - 300)
        SentBackOrRejected=2,
        SentBackShare=0.5,
    )
    bob_0302 = row(
        "2026-03-02",
        bob,
        "Bob",
        "operator",
        ImagesFinished=1,
        RenditionsSaved=2,
        MedianSecondsToFinish=600.0,
        P90SecondsToFinish=600.0,
        SentBackShare=0.0,
    )
    quinn_0302 = row("2026-03-02", quinn, "Quinn", "qa", ImagesReviewed=3)
    ann_0303 = row(
        "2026-03-03",
        ann,
        "Ann",
        "operator",
        ImagesFinished=1,
        RenditionsSaved=1,
        MedianSecondsToFinish=120.0,
        P90SecondsToFinish=120.0,
        SentBackShare=0.0,
    )
    quinn_0303 = row("2026-03-03", quinn, "Quinn", "qa", ImagesReviewed=1)
    headers = scenario["qa_h"]
    assert stats(client, headers) == [
        ann_0302,
        bob_0302,
        quinn_0302,
        ann_0303,
        quinn_0303,
    ]
    assert stats(client, headers, fromDate="2026-03-03", toDate="2026-03-03") == [
        ann_0303,
        quinn_0303,
    ]
    assert stats(client, headers, toDate="2026-03-02") == [
        ann_0302,
        bob_0302,
        quinn_0302,
    ]
    assert stats(client, headers, providerName="tmdb") == [
        row(
            "2026-03-02",
            ann,
            "Ann",
            "operator",
            ImagesFinished=1,
            RenditionsSaved=1,
            MedianSecondsToFinish=300.0,
            P90SecondsToFinish=300.0,
            SentBackOrRejected=1,
            SentBackShare=1.0,
        ),
        row("2026-03-02", quinn, "Quinn", "qa", ImagesReviewed=1),
    ]
    assert stats(client, headers, fromDate="2026-04-01") == []


def test_the_xlsx_holds_the_json_rows(
    client: TestClient, scenario: dict, token_for
) -> None:
    _, admin_h = token_for("admin")
    for params in ({}, {"providerName": "TMDB"}, {"fromDate": "2026-03-03"}):
        expected = stats(client, admin_h, **params)
        response = client.get(
            "/report/TeamStats/Download", params=params, headers=admin_h
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith(XLSX)
        disposition = response.headers["content-disposition"]
        assert disposition.startswith('attachment; filename="TeamStats_')
        sheet = load_workbook(io.BytesIO(response.content)).active
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0] == TEAM_STATS_HEADER
        assert len(rows) - 1 == len(expected) > 0
        for cells, item in zip(rows[1:], expected, strict=True):
            got = dict(zip(TEAM_STATS_HEADER, cells, strict=True))
            assert got.pop("Day").date().isoformat() == item.pop("Day")
            assert got == item


def test_team_stats_roles_and_bad_filters(client: TestClient, token_for) -> None:
    _, op_h = token_for("operator")
    _, qa_h = token_for("qa")
    for path in ("/report/TeamStats", "/report/TeamStats/Download"):
        refused(client.get(path, headers=op_h), 403)
        refused(client.get(path), 401)
        for query in (
            "fromDate=2026-13-01",
            "fromDate=01/03/2026",
            "toDate=yesterday",
            "fromDate=2026-03-05&toDate=2026-03-01",
        ):
            refused(client.get(f"{path}?{query}", headers=qa_h), 400)


def test_a_real_claim_and_save_are_counted(
    client: TestClient, token_for, engine: Engine
) -> None:
    """Through the workflow itself: the moves' action names are the ones counted."""
    op, op_h = token_for("operator")
    _, qa_h = token_for("qa")
    a, b = add_item(engine, "SH9"), add_item(engine, "SH9")
    data(client.get("/image/GetImageInfo?providerName=NBCU", headers=op_h))
    images = [(a, 2, None, standard_renditions()), (b, 4, 5, [])]
    body = save_body("SH9", op, images)
    data(client.post("/image/SaveCropedImages", json=body, headers=op_h))
    [mine] = stats(client, qa_h)
    assert (mine["UserId"], mine["ImagesFinished"], mine["RenditionsSaved"]) == (
        op,
        1,
        2,
    )
    assert 0 <= mine["MedianSecondsToFinish"] < 60
    assert mine["Day"] == datetime.now(UTC).date().isoformat()
