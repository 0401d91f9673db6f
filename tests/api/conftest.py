"""Every answer the API tests get through a TestClient is held to the OpenAPI document.

The enveloped routes have response models, which FastAPI enforces; the plain JSON of
/health and the file pipelines is documented only (``responses=``), so this is what
keeps those documents true. Objects are checked closed: a key the document does not
name fails as much as a missing one.
"""

from __future__ import annotations

import copy
import re
import weakref
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from sqlalchemy import Engine

from tests.support.work_items import engine_for


def _closed(schema: Any) -> Any:
    """``schema`` with every object that names its properties closed to others."""
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    closed = {key: _closed(value) for key, value in schema.items()}
    if "properties" in closed and "additionalProperties" not in closed:
        closed["additionalProperties"] = False
    return closed


Operation = tuple[re.Pattern[str], str, dict[str, Any]]
_OPERATIONS: weakref.WeakKeyDictionary[FastAPI, list[Operation]] = (
    weakref.WeakKeyDictionary()
)


def _operations(app: FastAPI) -> list[Operation]:
    """(path pattern, method, responses) of each operation, with every schema made
    closed and whole (the components it refers to inside it)."""
    if app not in _OPERATIONS:
        spec = app.openapi()
        components = _closed(spec.get("components", {}))
        found = []
        for path, methods in spec["paths"].items():
            pattern = re.compile("^" + re.sub(r"\{[^}/]+\}", "[^/]+", path) + "$")
            for method, operation in methods.items():
                responses = copy.deepcopy(operation.get("responses", {}))
                for response in responses.values():
                    for media in response.get("content", {}).values():
                        if "schema" in media:
                            media["schema"] = {
                                "components": components,
                                **_closed(media["schema"]),
                            }
                found.append((pattern, method.upper(), responses))
        _OPERATIONS[app] = found
    return _OPERATIONS[app]


def _documented(app: FastAPI, method: str, path: str, status: int) -> dict | None:
    for pattern, documented_method, responses in _operations(app):
        if documented_method == method and pattern.match(path):
            return (
                responses.get(str(status))
                or responses.get(f"{str(status)[0]}XX")
                or responses.get("default")
            )
    return None


def _media_matches(documented: str, received: str) -> bool:
    main, _, sub = documented.partition("/")
    got_main, _, got_sub = received.partition("/")
    return main in ("*", got_main) and sub in ("*", got_sub)


def check_answer(app: Any, response: httpx.Response) -> None:
    """Fail unless ``response`` is what the document says this operation answers."""
    if not isinstance(app, FastAPI):
        return
    request = response.request
    documented = _documented(
        app, request.method, request.url.path, response.status_code
    )
    if not documented or "content" not in documented:
        # Not an API operation (docs, static files), or a status the document does
        # not list: the fuzz test's status check is where that fails.
        return
    received = response.headers.get("content-type", "").split(";")[0].strip()
    media = next(
        (
            content
            for name, content in documented["content"].items()
            if _media_matches(name, received)
        ),
        None,
    )
    where = f"{request.method} {request.url.path} -> {response.status_code}"
    assert media is not None, f"{where}: {received} is not documented"
    if "schema" in media and received.endswith("json"):
        errors = sorted(
            Draft202012Validator(media["schema"]).iter_errors(response.json()),
            key=lambda error: list(error.absolute_path),
        )
        assert not errors, f"{where}: not as documented: " + "; ".join(
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]
        )


@pytest.fixture(autouse=True)
def answers_as_documented(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Not a mock: every request still goes to the real app; the wrapper only holds
    # the answer to the OpenAPI document.
    sent = TestClient.request

    def request(self: TestClient, *args: Any, **kwargs: Any) -> httpx.Response:
        response = sent(self, *args, **kwargs)
        check_answer(self.app, response)
        return response

    monkeypatch.setattr(TestClient, "request", request)
    yield


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    with engine_for(db_url) as engine:
        yield engine
