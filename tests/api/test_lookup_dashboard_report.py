"""Lookups, dashboard and reports over HTTP (contract 4.2 to 4.4)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine, text

from smartcrop.reporting import REPORT_HEADER
from tests.support.work_items import add_item
from tests.support.workflow_api import (
    data,
    operator_save,
    refused,
    rendition,
    save_body,
    success_data,
)

LOOKUPS = {
    "/lookup/GetImageTypeLookup": [
        {"Id": 1, "Title": "Poster"},
        {"Id": 2, "Title": "Banner"},
        {"Id": 3, "Title": "Backdrop"},
        {"Id": 4, "Title": "Episodic Still"},
        {"Id": 5, "Title": "Logo"},
        {"Id": 6, "Title": "Cast"},
    ],
    "/lookup/GetImageLanguageLookup": [
        {"Id": n, "Title": t}
        for n, t in enumerate(
            [
                "English",
                "Spanish",
                "French",
                "German",
                "Portuguese",
                "Italian",
                "Japanese",
                "No Language",
            ],
            start=1,
        )
    ],
    "/lookup/GetRejectReasonLookup": [
        {"Id": n, "Reason": r}
        for n, r in enumerate(
            [
                "Low resolution",
                "Watermark or text overlay",
                "Wrong programme",
                "Inappropriate content",
                "Broken image link",
                "Duplicate image",
                "Other",
            ],
            start=1,
        )
    ],
    "/lookup/GetAspectRatioLookup": [
        {"Id": 1, "Title": "16x9"},
        {"Id": 2, "Title": "4x3"},
        {"Id": 3, "Title": "3x4"},
        {"Id": 4, "Title": "2x3"},
        {"Id": 5, "Title": "1x1"},
    ],
}


@pytest.mark.parametrize("role", ["admin", "operator", "qa"])
def test_every_role_reads_the_lookups_in_id_order(
    client: TestClient, token_for, role: str
) -> None:
    _, headers = token_for(role)
    for path, expected in LOOKUPS.items():
        assert success_data(client.get(path, headers=headers)) == expected
        refused(client.get(path), 401)


def test_dashboard_numbers_after_a_known_scenario(
    client: TestClient, token_for, engine: Engine
) -> None:
    op, op_h = token_for("operator")
    _, qa_h = token_for("qa")
    for n, pid in enumerate(["SH1", "SH2", "SH3"]):
        add_item(engine, pid, "NBCU", age=timedelta(hours=10 - n))
    add_item(engine, "EP1", "TMDB")
    add_item(engine, "EP1", "TMDB")
    add_item(engine, "MV1", "DISNEY", status=3)
    exported = add_item(engine, "MV2", "DISNEY", status=3)
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE smartcrop_programimage SET outputfilename = :f,"
                " exportedat = now() WHERE id = :id"
            ),
            {"f": "SmartCrop_Manifest_20261126_020000.csv", "id": exported},
        )
    operator_save(client, op_h, op, "NBCU", 2)  # SH1 -> QA
    operator_save(client, op_h, op, "NBCU", 4, reason=1)  # SH2 -> rejected
    data(client.get(f"/image/GetImageInfo?providerName=TMDB&user={op}", headers=op_h))

    expected = {
        "TotalImages": 7,
        "PendingOperator": 3,
        "PendingQA": 1,
        "Completed": 2,
        "Rejected": 1,
        "Locked": 2,
        "Exported": 1,
    }
    for headers in (op_h, qa_h):
        assert (
            success_data(client.get("/dashboard/Totals", headers=headers)) == expected
        )

    first = success_data(client.get("/dashboard/ProviderList?pageSize=2", headers=op_h))
    assert first == {
        "Items": [
            {
                "ProviderName": "DISNEY",
                "TotalImages": 2,
                "PendingOperator": 0,
                "PendingQA": 0,
                "Completed": 2,
                "Rejected": 0,
            },
            {
                "ProviderName": "NBCU",
                "TotalImages": 3,
                "PendingOperator": 1,
                "PendingQA": 1,
                "Completed": 0,
                "Rejected": 1,
            },
        ],
        "PageNumber": 1,
        "PageSize": 2,
        "TotalCount": 3,
        "TotalPages": 2,
    }
    second = success_data(
        client.get("/dashboard/ProviderList?pageNumber=2&pageSize=2", headers=op_h)
    )
    assert [i["ProviderName"] for i in second["Items"]] == ["TMDB"]
    assert second["Items"][0]["PendingOperator"] == 2
    default = success_data(
        client.get("/dashboard/ProviderList?pageNumber=&pageSize=", headers=op_h)
    )
    assert (default["PageNumber"], default["PageSize"], len(default["Items"])) == (
        1,
        20,
        3,
    )
    beyond = success_data(
        client.get("/dashboard/ProviderList?pageNumber=9", headers=op_h)
    )
    assert beyond["Items"] == [] and beyond["TotalCount"] == 3
    refused(client.get("/dashboard/Totals"), 401)


@pytest.mark.parametrize(
    "query",
    [
        "pageSize=501",
        "pageSize=0",
        "pageNumber=0",
        "pageNumber=-1",
        "pageSize=abc",
        "pageNumber=1.5",
    ],
)
def test_bad_paging_is_refused_in_the_envelope(
    client: TestClient, token_for, query: str
) -> None:
    _, headers = token_for("qa")
    for path in ("/dashboard/ProviderList", "/report/CroppedImageReport"):
        assert "page" in refused(client.get(f"{path}?{query}", headers=headers), 400)


@pytest.fixture
def report_scenario(client: TestClient, token_for, engine: Engine) -> dict[str, Any]:
    """Three renditions: two of SH1 (NBCU, saved 1 March), one of EP1 (TMDB, 3rd)."""
    op1, op1_h = token_for("operator", name="Olga Operator")
    op2, op2_h = token_for("operator", name="Omar Operator")
    qa, qa_h = token_for("qa", name="Quinn QA")
    add_item(engine, "SH1", "NBCU", title="Night Court")
    add_item(engine, "EP1", "TMDB", title="Blue Planet")
    operator_save(client, op1_h, op1, "NBCU", 2)
    operator_save(client, op2_h, op2, "TMDB", 3, renditions=[rendition(2, 400, 300)])
    data(
        client.get(f"/image/GetCroppedImageInfo?programId=SH1&user={qa}", headers=qa_h)
    )
    with engine.begin() as conn:
        sh1 = conn.execute(
            text("SELECT id FROM smartcrop_programimage WHERE link_object_id = 'SH1'")
        ).scalar_one()
    approve = save_body("SH1", qa, [(sh1, 3, None, [])])
    assert (
        client.post(
            "/image/UpdateCroppedImageInfo", json=approve, headers=qa_h
        ).status_code
        == 200
    )
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE smartcrop_aspectratioimages SET updatedat = CASE"
                " WHEN link_object_id = 'SH1' THEN timestamptz '2026-03-01 10:00Z'"
                " ELSE timestamptz '2026-03-03 23:30Z' END"
            )
        )
    return {"op1": op1, "op2": op2, "qa": qa, "qa_h": qa_h, "op1_h": op1_h}


def _report(client, headers, **params) -> dict:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return success_data(
        client.get(f"/report/CroppedImageReport?{query}", headers=headers)
    )


def test_report_items_filters_and_paging(
    client: TestClient, token_for, report_scenario: dict
) -> None:
    _, admin_h = token_for("admin")
    qa_h = report_scenario["qa_h"]
    everything = _report(
        client, qa_h, fromDate="", toDate="", providerName="", userId=""
    )
    assert everything["TotalCount"] == 3 and everything["TotalPages"] == 1
    first = everything["Items"][0]
    assert list(first) == list(REPORT_HEADER)
    assert {k: first[k] for k in REPORT_HEADER if not k.endswith("At")} == {
        "ProgramId": "SH1",
        "ProviderName": "NBCU",
        "ProgramTitle": "Night Court",
        "ImageId": first["ImageId"],
        "AspectRatio": "16x9",
        "Status": 3,
        "CroppedBy": "Olga Operator",
        "ReviewedBy": "Quinn QA",
        "OutputFileName": None,
    }
    assert datetime.fromisoformat(first["CroppedAt"]).tzinfo is not None
    assert [i["AspectRatio"] for i in everything["Items"]] == ["16x9", "1x1", "4x3"]
    assert everything["Items"][2]["ReviewedBy"] is None

    def programmes(**params) -> list[str]:
        return [i["ProgramId"] for i in _report(client, admin_h, **params)["Items"]]

    assert programmes(fromDate="2026-03-01", toDate="2026-03-01") == ["SH1", "SH1"]
    assert programmes(fromDate="2026-03-02") == ["EP1"]
    assert programmes(toDate="2026-03-03") == ["SH1", "SH1", "EP1"]  # inclusive
    assert programmes(toDate="2026-03-02") == ["SH1", "SH1"]
    assert programmes(fromDate="2026-03-04") == []
    assert programmes(providerName="tmdb") == ["EP1"]
    assert programmes(userId=report_scenario["op2"]) == ["EP1"]
    assert programmes(userId=report_scenario["qa"]) == ["SH1", "SH1"]  # reviewer
    own = _report(client, qa_h, userId=report_scenario["qa"])
    assert own["TotalCount"] == 2

    paged = _report(client, qa_h, pageNumber=2, pageSize=1)
    assert paged["Items"] == [everything["Items"][1]]
    assert (paged["TotalCount"], paged["TotalPages"], paged["PageSize"]) == (3, 3, 1)


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("fromDate=2026-13-01", 400),
        ("fromDate=01/03/2026", 400),
        ("toDate=yesterday", 400),
        ("fromDate=2026-03-05&toDate=2026-03-01", 400),
        ("userId=x", 400),
    ],
)
def test_bad_report_filters_are_refused(
    client: TestClient, token_for, query: str, status: int
) -> None:
    _, headers = token_for("qa")
    for path in ("CroppedImageReport", "CroppedImageReportDownLoad"):
        refused(client.get(f"/report/{path}?{query}", headers=headers), status)


def test_report_roles(client: TestClient, token_for, report_scenario: dict) -> None:
    _, op_h = token_for("operator")
    qa_h = report_scenario["qa_h"]
    for path in ("CroppedImageReport", "CroppedImageReportDownLoad"):
        refused(client.get(f"/report/{path}", headers=op_h), 403)
        refused(client.get(f"/report/{path}"), 401)
        other = report_scenario["op1"]
        refused(client.get(f"/report/{path}?userId={other}", headers=qa_h), 403)


def test_the_xlsx_download_holds_exactly_the_report_rows(
    client: TestClient, token_for, report_scenario: dict
) -> None:
    _, admin_h = token_for("admin")
    for params in ({}, {"providerName": "NBCU"}, {"fromDate": "2026-03-04"}):
        query = "&".join(f"{k}={v}" for k, v in params.items())
        response = client.get(
            f"/report/CroppedImageReportDownLoad?{query}", headers=admin_h
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        disposition = response.headers["content-disposition"]
        assert disposition.startswith("attachment;") and ".xlsx" in disposition
        sheet = load_workbook(io.BytesIO(response.content)).active
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0] == REPORT_HEADER
        expected = _report(client, admin_h, pageSize=500, **params)["Items"]
        assert len(rows) - 1 == len(expected)
        for row, item in zip(rows[1:], expected, strict=True):
            for name, cell in zip(REPORT_HEADER, row, strict=True):
                value = item[name]
                if name.endswith("At") and value is not None:
                    value = (
                        datetime.fromisoformat(value)
                        .astimezone(UTC)
                        .replace(tzinfo=None)
                    )
                    assert abs(cell - value) < timedelta(milliseconds=1), name
                else:
                    assert cell == value, name


def test_the_provider_list_counts_the_spellings_of_a_name_together(
    client: TestClient, token_for, engine: Engine
) -> None:
    """Provider names match case-insensitively everywhere, as the claims do."""
    _, headers = token_for("operator")
    add_item(engine, "SH1", "NBCU")
    add_item(engine, "SH2", "NBCU", status=3)
    add_item(engine, "SH3", "Nbcu")
    add_item(engine, "EP1", "TMDB")
    listed = success_data(client.get("/dashboard/ProviderList", headers=headers))
    assert [
        (i["ProviderName"], i["TotalImages"], i["PendingOperator"], i["Completed"])
        for i in listed["Items"]
    ] == [("NBCU", 3, 2, 1), ("TMDB", 1, 1, 0)]
    assert listed["TotalCount"] == 2
