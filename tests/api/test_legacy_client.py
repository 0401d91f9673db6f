"""A whole day driven the way the legacy frontend drives it (issue 14).

Over real HTTP, with the contract's routes, field names and casing only: no parameter
or field the project added (no ``rejectReasonId`` on UpdateStatus, no provider name in
its canonical case, no ``Comment``). If a legacy client breaks, this test does.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from tests.support.work_items import add_item
from tests.support.workflow_api import live_server, rendition

PASSWORD = "a long enough passphrase"


@pytest.fixture
def base_url(api_app: FastAPI) -> Iterator[str]:
    with live_server(api_app) as url:
        yield url


class LegacyClient:
    """One browser session of the legacy frontend: logs in, keeps the token."""

    def __init__(self, base_url: str, email: str, password: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)
        answer = self.http.post(
            "/user/Login", json={"EmailID": email, "Password": password}
        )
        assert answer.status_code == 200, answer.text
        data = answer.json()["Data"]
        self.user_id: int = data["UserId"]
        self.http.headers["Authorization"] = f"Bearer {data['Token']}"

    def data(self, method: str, path: str, **kwargs: Any) -> Any:
        """The envelope's Data of a successful call (all a legacy client reads)."""
        answer = self.http.request(method, path, **kwargs)
        body = answer.json()
        assert answer.status_code == 200 and body["IsSuccess"], (path, body)
        assert body["StatusCode"] == 200
        return body["Data"]

    def close(self) -> None:
        self.http.close()


def by_id(programme: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {image["ImageId"]: image for image in programme["Images"]}


def boxes(image: dict[str, Any]) -> dict[str, tuple[int, int, int, int]]:
    return {
        r["AspectRatio"]: (r["X"], r["Y"], r["Width"], r["Height"])
        for r in image["Renditions"]
    }


def test_a_legacy_frontend_day(
    base_url: str, engine: Engine, make_user, db_url: str
) -> None:
    _, admin_email, admin_password = make_user("admin", password=PASSWORD)
    admin = LegacyClient(base_url, admin_email, admin_password)
    clients = [admin]
    try:
        # The admin's morning: two colleagues, every programme through QA.
        for name, role in (("Olga Operator", "operator"), ("Quentin QA", "qa")):
            admin.data(
                "POST",
                "/user/Register",
                json={
                    "UserName": name,
                    "EmailID": f"{role}@legacy.example.com",
                    "Password": PASSWORD,
                    "RoleName": role,
                },
            )
        assert admin.data("GET", "/role/QCdisablestatus") == {"QCDisabled": False}
        admin.data("POST", "/rule/Create", json={"Status": 2, "Percentage": 100})

        # What the night's manifest brought: a programme of two images, then one.
        first = [add_item(engine, "SH000000010000"), add_item(engine, "SH000000010000")]
        (second,) = [add_item(engine, "SH000000020000")]

        operator = LegacyClient(base_url, "operator@legacy.example.com", PASSWORD)
        qa = LegacyClient(base_url, "qa@legacy.example.com", PASSWORD)
        clients += [operator, qa]

        # The operator types the provider as she always has, in lower case.
        claimed = operator.data(
            "GET",
            "/image/GetImageInfo",
            params={"providerName": "nbcu", "user": operator.user_id},
        )
        assert claimed["ProgramId"] == "SH000000010000"
        assert claimed["ProviderName"] == "NBCU"
        assert sorted(by_id(claimed)) == sorted(first)

        # She saves the first image only: the answer is still the whole programme.
        cropped = [rendition(1, 160, 90), rendition(5, 100, 100, x=10, y=20)]
        part = operator.data(
            "POST",
            "/image/SaveCropedImages",
            json={
                "ProgramId": "SH000000010000",
                "UserId": operator.user_id,
                "Images": [
                    {
                        "ImageId": first[0],
                        "Status": 2,
                        "RejectReasonId": None,
                        "Renditions": cropped,
                    }
                ],
            },
        )
        images = by_id(part)
        assert sorted(images) == sorted(first)
        assert (images[first[0]]["Status"], images[first[0]]["CurrentState"]) == (2, 0)
        assert (images[first[1]]["Status"], images[first[1]]["CurrentState"]) == (1, 1)
        assert images[first[1]]["LockedBy"] == operator.user_id
        assert boxes(images[first[0]]) == {
            "16x9": (0, 0, 160, 90),
            "1x1": (10, 20, 100, 100),
        }

        whole = operator.data(
            "POST",
            "/image/SaveCropedImages",
            json={
                "ProgramId": "SH000000010000",
                "UserId": operator.user_id,
                "Images": [
                    {
                        "ImageId": first[1],
                        "Status": 2,
                        "RejectReasonId": None,
                        "Renditions": [rendition(1, 320, 180)],
                    }
                ],
            },
        )
        assert {i["Status"] for i in whole["Images"]} == {2}

        # QA takes the programme, moves one box without sending a new picture and
        # approves both images.
        review = qa.data(
            "GET",
            "/image/GetCroppedImageInfo",
            params={"programId": "", "user": qa.user_id},
        )
        assert review["ProgramId"] == "SH000000010000"
        stored = by_id(review)
        assert all(
            r["ImageBase64"] for i in stored.values() for r in i["Renditions"]
        ), "QA sees the stored pictures"
        moved = {
            "AspectRatioId": 1,
            "X": 40,
            "Y": 30,
            "Width": 160,
            "Height": 90,
        }
        approved = qa.data(
            "POST",
            "/image/UpdateCroppedImageInfo",
            json={
                "ProgramId": "SH000000010000",
                "UserId": qa.user_id,
                "Images": [
                    {
                        "ImageId": first[0],
                        "Status": 3,
                        "RejectReasonId": None,
                        "Renditions": [moved],
                    },
                    {
                        "ImageId": first[1],
                        "Status": 3,
                        "RejectReasonId": None,
                        "Renditions": [],
                    },
                ],
            },
        )
        images = by_id(approved)
        assert {i["Status"] for i in images.values()} == {3}
        assert boxes(images[first[0]])["16x9"] == (40, 30, 160, 90)
        assert boxes(images[first[0]])["1x1"] == (10, 20, 100, 100)

        # The next programme is unusable: rejected as legacy callers do, no reason.
        nxt = operator.data(
            "GET",
            "/image/GetImageInfo",
            params={"providerName": "NBCU", "user": operator.user_id},
        )
        assert nxt["ProgramId"] == "SH000000020000"
        rejected = operator.data(
            "GET",
            "/image/UpdateStatus",
            params={"programId": "SH000000020000", "status": 4, "currentState": 0},
        )
        assert [(i["ImageId"], i["Status"]) for i in rejected["Images"]] == [
            (second, 4)
        ]
        empty = operator.http.get(
            "/image/GetImageInfo",
            params={"providerName": "nbcu", "user": operator.user_id},
        ).json()
        assert (empty["Data"], empty["Message"]) == (None, "No images pending")

        # The evening: the dashboard and the report add up to what happened.
        totals = qa.data("GET", "/dashboard/Totals")
        assert {k: totals[k] for k in ("TotalImages", "Completed", "Rejected")} == {
            "TotalImages": 3,
            "Completed": 2,
            "Rejected": 1,
        }
        assert totals["PendingOperator"] == totals["PendingQA"] == totals["Locked"] == 0
        today = datetime.now(UTC).date().isoformat()
        report = qa.data(
            "GET",
            "/report/CroppedImageReport",
            params={
                "fromDate": today,
                "toDate": today,
                "providerName": "NBCU",
                "pageNumber": 1,
                "pageSize": 20,
            },
        )
        rows = {(r["ImageId"], r["AspectRatio"]): r for r in report["Items"]}
        assert set(rows) == {
            (first[0], "16x9"),
            (first[0], "1x1"),
            (first[1], "16x9"),
        }
        assert report["TotalCount"] == 3
        assert {r["CroppedBy"] for r in rows.values()} == {"Olga Operator"}
        assert {r["ReviewedBy"] for r in rows.values()} == {"Quentin QA"}
        assert {r["ProgramId"] for r in rows.values()} == {"SH000000010000"}
    finally:
        for client in clients:
            client.close()
