"""The response models change no answer: every route that has one answers exactly what
it returned before FastAPI passed it through the model.

A response model filters: a field the model lacks is dropped from the answer without
a word, and a field with a default that the route does not give is added. So each
route is called here with real data (every nested list filled, every optional object
present) and its answer compared, key for key and type for type, with the value the
route returned, caught on its way into FastAPI's serialisation.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import fastapi.routing
import httpx
import pytest
from fastapi import FastAPI
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import Engine, text

from api.envelope import EmptyEnvelope
from tests.support.work_items import add_item, add_rendition
from tests.support.workflow_api import save_body, standard_renditions

PROGRAMME = "SH012345670000"


class Recorder:
    """The values routes return, as FastAPI's serialisation receives them."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.returned: list[Any] = []
        serialize = fastapi.routing.serialize_response

        async def recording(**kwargs: Any) -> Any:
            if kwargs.get("field") is not None:
                self.returned.append(kwargs["response_content"])
            return await serialize(**kwargs)

        # Not a mock: FastAPI's own serialisation still runs; the wrapper only
        # records what it was given. Fails loudly (AttributeError) should FastAPI
        # rename the function.
        monkeypatch.setattr(fastapi.routing, "serialize_response", recording)


def _exact(value: Any) -> str:
    """JSON that tells 1 from 1.0 and true from 1, keys sorted."""
    return json.dumps(value, sort_keys=True)


class Calls:
    def __init__(self, client: TestClient, recorder: Recorder) -> None:
        self.client = client
        self.recorder = recorder
        self.compared: dict[tuple[str, str], list[Any]] = {}

    def __call__(self, method: str, path: str, headers: dict, **kw: Any) -> Any:
        self.recorder.returned.clear()
        response: httpx.Response = self.client.request(
            method, path, headers=headers, **kw
        )
        assert response.status_code == 200, response.text
        [returned] = self.recorder.returned
        answer = response.json()
        assert _exact(answer) == _exact(jsonable_encoder(returned)), path
        self.compared.setdefault((method, path), []).append(answer["Data"])
        return answer["Data"]


def _enveloped_routes(app: FastAPI) -> dict[tuple[str, str], type[BaseModel]]:
    """(method, path) -> response model of every route that has one."""
    found = {}
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.response_model is not None:
            for method in route.methods:
                found[method, context.path or route.path] = route.response_model
    return found


def _add_suggestions_and_fetch(engine: Engine, image_id: int) -> None:
    """Stored suggestions and a recorded fetch, so nothing is fetched or computed."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO smartcrop_cropsuggestion"
                " (programimageid, aspectratioid, x, y, width, height, score, method)"
                " VALUES (:id, 1, 0, 100, 2000, 1125, 0.75, 'face'),"
                " (:id, 5, 0, 500, 2000, 2000, 1.0, 'centre')"
            ),
            {"id": image_id},
        )
        conn.execute(
            text(
                "INSERT INTO smartcrop_imagefetch (programimageid, status, reason,"
                " httpstatus, contenttype, filesize, imagewidth, imageheight)"
                " VALUES (:id, 'ok', NULL, 200, 'image/jpeg', 1234, 2000, 3000)"
            ),
            {"id": image_id},
        )


def test_every_response_model_answers_what_its_route_returned(
    api_app: FastAPI,
    client: TestClient,
    token_for,
    make_user,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, admin = token_for("admin")
    op, op_h = token_for("operator")
    qa, qa_h = token_for("qa")
    call = Calls(client, Recorder(monkeypatch))

    # Two images of one programme (one of unknown type and language), and a second
    # programme of another provider. (An image of unknown size would be fetched.)
    a = add_item(engine, PROGRAMME, age=timedelta(hours=2))
    b = add_item(engine, PROGRAMME, image_type_id=None, language_id=None)
    add_item(engine, "SH999", "DISNEY")
    _add_suggestions_and_fetch(engine, a)

    # Users.
    admin_id, email, password = make_user("admin")
    login = call(
        "POST", "/user/Login", {}, json={"EmailID": email, "Password": password}
    )
    assert login["UserId"] == admin_id
    user = call(
        "POST",
        "/user/Register",
        admin,
        json={
            "UserName": "Temp",
            "EmailID": "temp@example.com",
            "Password": "a long enough password",
            "RoleName": "operator",
        },
    )
    call(
        "POST", "/user/Update", admin, json={"UserId": user["UserId"], "UserName": "T"}
    )
    call(
        "POST",
        "/user/UpdatePassword",
        admin,
        json={"EmailID": "temp@example.com", "NewPassword": "another long password"},
    )
    call("POST", "/user/UserRoleDetails", admin, params={"EmailID": "temp@example.com"})
    assert call("GET", "/user/UserList", admin)
    call("POST", "/user/Delete", admin, json={"UserId": user["UserId"]})

    # Roles, the QA toggle, rules.
    call("POST", "/role/Create", admin, json={"RoleName": "viewer"})
    call(
        "POST",
        "/role/Update",
        admin,
        json={"RoleName": "viewer", "NewRoleName": "watcher"},
    )
    assert call("GET", "/role/Get", admin)
    call("POST", "/role/Delete", admin, json={"RoleName": "watcher"})
    call("GET", "/role/QCdisablestatus", admin)
    call("GET", "/role/QCdisable", admin, params={"status": 0})
    rule = call("POST", "/rule/Create", admin, json={"Status": 2, "Percentage": 50})
    call("POST", "/rule/Update", admin, json={"Id": rule["Id"], "Percentage": 100})
    assert call("GET", "/rule/Get", admin)
    call("POST", "/rule/Delete", admin, json={"Id": rule["Id"]})  # QA takes all

    # Lookups.
    for lookup in ("ImageType", "ImageLanguage", "RejectReason", "AspectRatio"):
        assert call("GET", f"/lookup/Get{lookup}Lookup", op_h)

    # The operator's stage.
    assert (
        call("GET", "/image/GetImageInfo", op_h, params={"providerName": "X"}) is None
    )
    claimed = call("GET", "/image/GetImageInfo", op_h, params={"providerName": "NBCU"})
    assert [image["ImageId"] for image in claimed["Images"]] == [a, b]
    assert claimed["Images"][0]["Suggestions"]
    assert claimed["LockExpiresAt"]
    call("GET", "/image/RenewLock", op_h, params={"programId": PROGRAMME})
    suggested = call(
        "GET",
        "/image/SuggestCrops",
        op_h,
        params={"programId": PROGRAMME, "imageId": a},
    )
    assert suggested["Fetch"] is not None and suggested["Suggestions"]
    saved = call(
        "POST",
        "/image/SaveCropedImages",
        op_h,
        json=save_body(PROGRAMME, op, [(a, 2, None, standard_renditions())]),
    )
    assert saved["Images"][0]["Renditions"]
    add_rendition(engine, b)  # finishing needs one
    call(
        "GET",
        "/image/UpdateStatus",
        op_h,
        params={"programId": PROGRAMME, "status": 2, "currentState": 0},
    )
    call("GET", "/image/GetImageInfo", op_h, params={"providerName": "DISNEY"})
    released = call("GET", "/image/UpdateUserLockStatus", op_h)
    assert released["ReleasedImages"] == 1

    # The QA stage.
    review = call("GET", "/image/GetCroppedImageInfo", qa_h, params={"user": qa})
    assert review["Images"][0]["Renditions"][0]["ImageBase64"]
    call(
        "GET",
        "/image/DeleteCroppedImageInfo",
        qa_h,
        params={"programId": PROGRAMME, "id": 5, "imageid": a},
    )
    # Sent back with a comment, to its operator first; finished again.
    sent_back = call(
        "GET",
        "/image/UpdateStatus",
        qa_h,
        params={
            "programId": PROGRAMME,
            "status": 1,
            "currentState": 0,
            "rejectReasonId": 7,
            "comment": "Keep the logo in the 16x9",
        },
    )
    assert sent_back["Images"][0]["SentBackBy"]["UserId"] == qa
    again = call("GET", "/image/GetImageInfo", op_h, params={"providerName": "NBCU"})
    assert again["Images"][0]["LastComment"] == "Keep the logo in the 16x9"
    call(
        "GET",
        "/image/UpdateStatus",
        op_h,
        params={"programId": PROGRAMME, "status": 2, "currentState": 0},
    )
    call("GET", "/image/GetCroppedImageInfo", qa_h, params={"user": qa})
    call(
        "POST",
        "/image/UpdateCroppedImageInfo",
        qa_h,
        json=save_body(PROGRAMME, qa, [(a, 3, None, []), (b, 3, None, [])]),
    )
    assert call("GET", "/image/GetCroppedImageInfo", qa_h) is None

    # What it adds up to, one rendition stamped as exported.
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE smartcrop_programimage"
                " SET outputfilename = 'SmartCrop_Manifest_20261127_020000.csv'"
                " WHERE id = :id"
            ),
            {"id": a},
        )
    history = call("GET", "/image/History", op_h, params={"programId": PROGRAMME})
    assert [e["Comment"] for e in history["Entries"] if e["Comment"]] == [
        "Keep the logo in the 16x9"
    ] * 2
    call("GET", "/dashboard/Totals", op_h)
    assert call("GET", "/dashboard/ProviderList", op_h)["Items"]
    report = call("GET", "/report/CroppedImageReport", qa_h)
    assert report["Items"][0]["ReviewedAt"] and report["Items"][0]["OutputFileName"]
    assert call("GET", "/report/TeamStats", qa_h)[0]["MedianSecondsToFinish"] >= 0

    call("POST", "/user/Logout", {"Authorization": f"Bearer {login['Token']}"})

    routes = _enveloped_routes(api_app)
    assert set(call.compared) == set(routes), "routes not compared here"
    empty = [
        label
        for label, answers in call.compared.items()
        if routes[label] is not EmptyEnvelope and all(a is None for a in answers)
    ]
    assert not empty, f"compared only with Data null: {empty}"


def test_the_document_check_sees_a_key_it_does_not_name() -> None:
    """tests/api/conftest.py holds every answer to the document, the plain JSON ones
    that no response model filters included: a key the model does not name fails."""

    class Answer(BaseModel):
        status: str

    app = FastAPI()

    @app.get("/plain", responses={200: {"model": Answer}})
    def plain() -> JSONResponse:
        return JSONResponse({"status": "ok", "extra": 1})

    with TestClient(app) as client, pytest.raises(AssertionError, match="extra"):
        client.get("/plain")
