"""The cropped-image report's `status` filter (beyond the contract), over HTTP.

The day summaries cannot count by status (a QA decision changes a work item's status,
not its renditions), so a filtered page is counted and read from the renditions: the
tests compare it, page by page and in the XLSX, with the unfiltered report's rows of
that status, on a scenario with every status and several save days.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine, text

from smartcrop.reporting import REPORT_HEADER, cropped_report
from tests.support.work_items import add_item, engine_for
from tests.support.workflow_api import operator_save, refused, success_data


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    with engine_for(db_url) as engine:
        yield engine


def _qa(client: TestClient, headers: dict, qa: int, program: str, **move: Any) -> None:
    claimed = client.get(
        "/image/GetCroppedImageInfo",
        params={"programId": program, "user": qa},
        headers=headers,
    )
    assert claimed.status_code == 200, claimed.text
    moved = client.get(
        "/image/UpdateStatus",
        params={"programId": program, "currentState": 0, **move},
        headers=headers,
    )
    assert moved.status_code == 200, moved.text


@pytest.fixture
def scenario(client: TestClient, token_for, engine: Engine) -> dict[str, Any]:
    """Renditions of work items in each status, saved over four days:
    SH1 approved (3), SH2 sent back (1), SH3 rejected by QA (4), EP1 and EP2 in QA
    (2); two renditions each (16x9 and 1x1)."""
    op, op_h = token_for("operator")
    qa, qa_h = token_for("qa")
    _, admin_h = token_for("admin")
    for program, provider in (
        ("SH1", "NBCU"),
        ("SH2", "NBCU"),
        ("SH3", "NBCU"),
        ("EP1", "TMDB"),
        ("EP2", "TMDB"),
    ):
        add_item(engine, program, provider)
        assert operator_save(client, op_h, op, provider, 2) == program
    _qa(client, qa_h, qa, "SH1", status=3)
    _qa(client, qa_h, qa, "SH2", status=1, rejectReasonId=2)
    _qa(client, qa_h, qa, "SH3", status=4, rejectReasonId=3)
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE smartcrop_aspectratioimages SET updatedat = CASE"
                " link_object_id WHEN 'SH1' THEN timestamptz '2026-03-01 10:00Z'"
                " WHEN 'EP1' THEN timestamptz '2026-03-02 09:00Z'"
                " WHEN 'SH2' THEN timestamptz '2026-03-02 11:00Z'"
                " WHEN 'SH3' THEN timestamptz '2026-03-03 08:00Z'"
                " ELSE timestamptz '2026-03-04 23:59Z' END"
            )
        )
    return {"admin_h": admin_h, "qa": qa, "qa_h": qa_h}


def _report(client: TestClient, headers: dict, **params: Any) -> dict:
    return success_data(
        client.get("/report/CroppedImageReport", params=params, headers=headers)
    )


def test_the_status_filter_keeps_exactly_the_rows_of_that_status(
    client: TestClient, scenario: dict
) -> None:
    headers = scenario["admin_h"]
    everything = _report(client, headers, pageSize=500)["Items"]
    assert len(everything) == 10
    assert {i["Status"] for i in everything} == {1, 2, 3, 4}
    for status in (1, 2, 3, 4):
        expected = [i for i in everything if i["Status"] == status]
        answer = _report(client, headers, status=status, pageSize=500)
        assert answer["Items"] == expected
        assert answer["TotalCount"] == len(expected)
        # Page by page, in the report's order.
        for number, item in enumerate(expected, start=1):
            page = _report(
                client, headers, status=status, pageSize=1, pageNumber=number
            )
            assert page["Items"] == [item]
            assert (page["TotalCount"], page["TotalPages"]) == (
                len(expected),
                len(expected),
            )
        past = _report(client, headers, status=status, pageSize=2, pageNumber=9)
        assert (past["Items"], past["TotalCount"]) == ([], len(expected))

    # With the other filters: dates, provider, user.
    def programmes(**params: Any) -> list[str]:
        items = _report(client, headers, pageSize=500, **params)["Items"]
        return [i["ProgramId"] for i in items]

    assert programmes(status=2) == ["EP1", "EP1", "EP2", "EP2"]
    assert programmes(status=2, fromDate="2026-03-03") == ["EP2", "EP2"]
    assert programmes(status=2, toDate="2026-03-02") == ["EP1", "EP1"]
    assert programmes(status=2, providerName="nbcu") == []
    assert programmes(status=4, providerName="NBCU") == ["SH3", "SH3"]
    assert programmes(status=1, userId=scenario["qa"]) == ["SH2", "SH2"]
    assert programmes(status=2, userId=scenario["qa"]) == []  # QA never reviewed
    assert programmes(status=3, fromDate="2026-03-05") == []
    # The legacy client sends empty parameters: empty status means no filter.
    assert _report(client, headers, status="", pageSize=500)["Items"] == everything


def test_the_download_takes_the_status_filter(
    client: TestClient, scenario: dict
) -> None:
    headers = scenario["admin_h"]
    for params in ({"status": 2}, {"status": 1, "providerName": "NBCU"}, {}):
        response = client.get(
            "/report/CroppedImageReportDownLoad", params=params, headers=headers
        )
        assert response.status_code == 200, response.text
        rows = list(
            load_workbook(io.BytesIO(response.content)).active.iter_rows(
                values_only=True
            )
        )
        assert rows[0] == REPORT_HEADER
        expected = _report(client, headers, pageSize=500, **params)["Items"]
        assert [(r[0], r[3], r[4], r[5]) for r in rows[1:]] == [
            (i["ProgramId"], i["ImageId"], i["AspectRatio"], i["Status"])
            for i in expected
        ]


@pytest.mark.parametrize("status", ["0", "5", "x", "2.5", "-1"])
def test_a_bad_status_is_refused(client: TestClient, token_for, status: str) -> None:
    _, headers = token_for("qa")
    for path in ("CroppedImageReport", "CroppedImageReportDownLoad"):
        message = refused(
            client.get(f"/report/{path}", params={"status": status}, headers=headers),
            400,
        )
        assert "status" in message


def test_a_filtered_count_that_takes_too_long_is_refused_in_words(
    client: TestClient, scenario: dict, engine: Engine, monkeypatch
) -> None:
    """The bound: past FILTERED_TIMEOUT_MS the request is refused, not left running
    (here the renditions table is held by another transaction so the count waits)."""
    # Not a mock: the real bound (statement_timeout), shortened from 30 s so the test
    # waits 0.3 s; the lock below makes the real count wait past it.
    monkeypatch.setattr(cropped_report, "FILTERED_TIMEOUT_MS", 300)
    with engine.connect() as other:
        other.execute(
            text("LOCK TABLE smartcrop_aspectratioimages IN ACCESS EXCLUSIVE MODE")
        )
        answer = client.get(
            "/report/CroppedImageReport",
            params={"status": 3},
            headers=scenario["admin_h"],
        )
        other.rollback()
    message = refused(answer, 400)
    assert "took longer than" in message and "narrow it" in message
    # Once the table is free again, the same filtered report answers.
    assert _report(client, scenario["admin_h"], status=3)["TotalCount"] == 2
