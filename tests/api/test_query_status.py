"""Status codes of bad query parameters (contract 4 "Envelope"): a missing or malformed
query parameter is a 400 in the envelope on every route; 422 is kept for malformed
bodies. The routes are walked from the app's own OpenAPI document, so a route added
later is covered without an entry here."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.support.route_roles import NO_ENVELOPE

# Valid values by parameter name, so that the one parameter under test is the only
# bad one in a request.
VALID: dict[str, str] = {
    "EmailID": "boss@example.com",
    "status": "0",
    "providerName": "NBCU",
    "programId": "SH000000000000",
    "user": "1",
    "userId": "1",
    "id": "1",
    "imageid": "1",
    "imageId": "1",
    "currentState": "0",
    "rejectReasonId": "1",
    "comment": "The sky is cut off",
    "pageNumber": "1",
    "pageSize": "5",
    "fromDate": "2026-01-01",
    "toDate": "2026-12-31",
    "folder_path": ".",
    "date_range": "1",
    "refresh": "false",
}
# Where one route takes a name in another sense: the report's status filter is a
# work-item status (1..4), not QCdisable's 0/1.
VALID_ON: dict[tuple[str, str], str] = {
    ("/report/CroppedImageReport", "status"): "3",
    ("/report/CroppedImageReportDownLoad", "status"): "3",
}


def _valid(path: str, name: str) -> str:
    return VALID_ON.get((path, name), VALID[name])


# Pipeline routes reach for Dagster's webserver once their input is valid; the
# tests' settings point at a port with no listener, so a valid call answers 503.
NO_DAGSTER = 503


@dataclass(frozen=True)
class QueryParam:
    method: str
    path: str
    name: str
    required: bool
    schema_type: str | None
    others: tuple[tuple[str, str], ...]  # the operation's other query parameters

    def __str__(self) -> str:
        return f"{self.method} {self.path}?{self.name}"

    def request(self, value: str | None) -> dict[str, str]:
        params = dict(self.others)
        if value is not None:
            params[self.name] = value
        return params


def _type(schema: dict[str, Any]) -> str | None:
    if "type" in schema:
        return schema["type"]
    kinds = [s.get("type") for s in schema.get("anyOf", []) if s.get("type") != "null"]
    return kinds[0] if kinds else None


def query_params(spec: dict[str, Any]) -> Iterator[QueryParam]:
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            params = [p for p in operation.get("parameters", []) if p["in"] == "query"]
            for param in params:
                others = tuple(
                    (p["name"], _valid(path, p["name"]))
                    for p in params
                    if p["name"] != param["name"]
                )
                yield QueryParam(
                    method.upper(),
                    path,
                    param["name"],
                    bool(param.get("required")),
                    _type(param.get("schema", {})),
                    others,
                )


@pytest.fixture
def admin(token_for) -> dict[str, str]:
    # Admin may call every route, so a refusal is about the input, not the role.
    return token_for("admin", email="boss@example.com")[1]


def _assert_400_envelope(response: Any, what: QueryParam, name: str) -> None:
    assert response.status_code == 400, (str(what), response.status_code, response.text)
    body = response.json()
    assert body["IsSuccess"] is False and body["StatusCode"] == 400, body
    assert body["Data"] is None
    assert name in body["Message"], (str(what), body["Message"])


def test_every_query_parameter_is_known_here(api_app: FastAPI) -> None:
    unknown = {p.name for p in query_params(api_app.openapi())} - set(VALID)
    assert not unknown, f"add a valid value for {unknown} to VALID"


def test_a_missing_query_parameter_is_400_in_the_envelope_never_422(
    client: TestClient, api_app: FastAPI, admin: dict[str, str]
) -> None:
    required = 0
    for param in query_params(api_app.openapi()):
        response = client.request(
            param.method, param.path, params=param.request(None), headers=admin
        )
        if param.required:
            required += 1
            _assert_400_envelope(response, param, param.name)
        else:
            # Optional in the document: it may succeed without it, or be refused for
            # another reason (the sample programme does not exist: 404); never 422.
            status = response.status_code
            assert status != 422, (str(param), response.text)
            assert status < 500 or status == NO_DAGSTER, (str(param), response.text)
    # /role/QCdisable?status= and /user/UserRoleDetails?EmailID= at least.
    assert required >= 2


@pytest.mark.parametrize(
    "malformed",
    ["\x00", "x" * 5000],
    ids=["nul", "too-long"],
)
def test_a_malformed_query_parameter_is_400_in_the_envelope_never_422(
    client: TestClient, api_app: FastAPI, admin: dict[str, str], malformed: str
) -> None:
    checked = 0
    for param in query_params(api_app.openapi()):
        response = client.request(
            param.method, param.path, params=param.request(malformed), headers=admin
        )
        checked += 1
        if param.path in NO_ENVELOPE:
            assert response.status_code == 400, (str(param), response.text)
        else:
            _assert_400_envelope(response, param, param.name)
    assert checked >= 20


def test_a_query_parameter_of_the_wrong_type_is_400_never_422(
    client: TestClient, api_app: FastAPI, admin: dict[str, str]
) -> None:
    numbers = [p for p in query_params(api_app.openapi()) if p.schema_type == "integer"]
    assert numbers, "no integer query parameter left: this test checks nothing"
    for param in numbers:
        response = client.request(
            param.method, param.path, params=param.request("x"), headers=admin
        )
        _assert_400_envelope(response, param, param.name)
