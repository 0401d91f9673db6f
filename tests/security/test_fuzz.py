"""Schemathesis over the app's own OpenAPI document: every operation, generated valid
and invalid input, with an admin token and with none.

Each answer must not be a 5xx, must have a status, content type, headers and body the
document declares (response_schema_conformance validates every JSON body against the
schema of its operation and status: the response models of api/schemas/ and the
error envelope), and (except /health, the file-pipeline endpoints and the files)
must be the envelope. The number of examples per operation is bounded so that the
whole fuzz stays well under three minutes on two cores.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.route_roles import NO_ENVELOPE

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
ENVELOPE_KEYS = {"IsSuccess", "StatusCode", "Message", "Data"}
# Operations that are slow per call (a password hash, a listing of sources): a few
# examples are enough.
SLOW = (
    "/filewatcher/",
    "/batchjob/",
    "/dumpdata/",
    "/user/Login",
    "/user/Register",
    "/user/Update",
    "/user/UpdatePassword",
)
# Checks left out per operation. The fuzz runs without a Dagster webserver (the
# settings point at a port with no listener), so a file-pipeline call whose input is
# valid answers the 503 its document declares ("cannot be reached, nothing started");
# a crash would still fail status_code_conformance (500 is declared nowhere), and bad
# input must still be a 400 in the envelope.
PIPELINE_CALLS = (
    "POST /filewatcher/run-local",
    "POST /filewatcher/download-s3",
    "POST /filewatcher/download-sftp",
    "POST /filewatcher/batch/run",
    "POST /batchjob/run",
    "POST /dumpdata/run",
)
EXCLUDED: dict[str, list[Any]] = {
    label: [not_a_server_error] for label in PIPELINE_CALLS
}
EXAMPLES = {"admin": 25, "anonymous": 4}
SLOW_EXAMPLES = 4
BUDGET_SECONDS = 170


def _envelope_check(response: Any, path: str) -> None:
    content_type = response.headers.get("content-type", [""])[0]
    if path in NO_ENVELOPE or not content_type.startswith("application/json"):
        return
    body = response.json()
    assert set(body) == ENVELOPE_KEYS, (path, body)
    assert body["StatusCode"] == response.status_code, (path, body)
    assert body["IsSuccess"] == (response.status_code < 400), (path, body)


def _fuzz(operation: Any, headers: dict[str, str], examples: int, client: Any) -> None:
    label = f"{operation.method.upper()} {operation.path}"
    checks = [c for c in CHECKS if c not in EXCLUDED.get(label, [])]
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            case.headers = {**(case.headers or {}), **headers}
            response = case.call_and_validate(session=client, checks=checks)
            _envelope_check(response, operation.path)

        try:
            run()
        except Unsatisfiable:
            # No input to make invalid (e.g. GET /health): nothing negative to send.
            assert mode is GenerationMode.NEGATIVE, label


@pytest.mark.parametrize("who", ["admin", "anonymous"])
def test_fuzz_every_operation(api_app, token_for, who: str) -> None:
    headers = token_for("admin")[1] if who == "admin" else {}
    schema = schemathesis.openapi.from_asgi("/openapi.json", api_app)
    failures: dict[str, str] = {}
    started = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]
    # Logout ends the token the fuzz calls everything with: it goes last.
    operations.sort(key=lambda operation: operation.path == "/user/Logout")
    assert len(operations) >= 40
    with asgi.get_client(api_app) as client:
        for operation in operations:
            examples = EXAMPLES[who]
            if operation.path.startswith(SLOW):
                examples = min(examples, SLOW_EXAMPLES)
            try:
                _fuzz(operation, headers, examples, client)
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - reported
                label = f"{operation.method.upper()} {operation.path}"
                failures[label] = str(exc)[:2000]
    elapsed = time.monotonic() - started
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
    assert elapsed < BUDGET_SECONDS, f"the fuzz took {elapsed:.0f} s"


def test_the_xlsx_download_declares_its_media_type(api_app) -> None:
    operation = api_app.openapi()["paths"]["/report/CroppedImageReportDownLoad"]["get"]
    declared = operation["responses"]["200"].get("content", {})
    assert "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" in (
        declared
    )


SUCCESS_STATUSES = ("200", "201", "202")


def _describes_a_body(schema: dict[str, Any]) -> bool:
    """Whether a schema says what the body holds: a model (``$ref``), a choice of
    models, an object with fields, a binary file. ``{}`` and the bare object that a
    ``-> dict`` route gets say nothing."""
    if "$ref" in schema:
        return True
    choices = schema.get("anyOf") or schema.get("oneOf")
    if choices:
        return all(_describes_a_body(choice) for choice in choices)
    if schema.get("type") == "object":
        return bool(schema.get("properties"))
    return schema.get("type") == "string" and schema.get("format") == "binary"


def test_every_operation_documents_its_success_body(api_app) -> None:
    """Clients generate their types from these, and the fuzz checks bodies against
    them: an operation without one is neither typed nor checked."""
    lacking = []
    for path, methods in api_app.openapi()["paths"].items():
        for method, operation in methods.items():
            label = f"{method.upper()} {path}"
            successes = [
                (status, answer)
                for status, answer in operation["responses"].items()
                if status in SUCCESS_STATUSES
            ]
            if not successes:
                lacking.append(f"{label}: no 200, 201 or 202")
            for status, answer in successes:
                content = answer.get("content") or {}
                if not content:
                    lacking.append(f"{label} {status}: no body")
                for media, body in content.items():
                    if not _describes_a_body(body.get("schema", {})):
                        lacking.append(f"{label} {status} {media}: {body}")
    assert not lacking, "\n".join(lacking)
