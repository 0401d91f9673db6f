"""The API skeleton: /health against a real database, errors in the envelope."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from smartcrop.db.embedded import embedded_url, stop_embedded
from smartcrop.db.migrate import upgrade


@pytest.fixture
def client(db_url: str, settings_for) -> TestClient:
    app = create_app(settings_for(db_url), db_url)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_health_ok_when_the_database_answers(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_health_503_when_the_database_is_down_and_ok_again_after(settings_for) -> None:
    # A server of this test's own, so it can really be stopped and started again.
    data_dir = Path(tempfile.mkdtemp(prefix="smartcrop-down-")) / "data"
    url = embedded_url(data_dir)
    upgrade(url)
    app = create_app(settings_for(url), url)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            assert client.get("/health").status_code == 200
            stop_embedded(data_dir)  # last user in this process: the server stops
            down = client.get("/health")
            assert down.status_code == 503
            assert down.json()["database"] != "ok"
            assert embedded_url(data_dir) == url  # restarted on the same folder
            assert client.get("/health").status_code == 200
    finally:
        stop_embedded(data_dir)


def test_unknown_path_is_a_404_in_the_envelope(client: TestClient) -> None:
    response = client.get("/no/such/route")
    assert response.status_code == 404
    body = response.json()
    assert body == {
        "IsSuccess": False,
        "StatusCode": 404,
        "Message": "Not found",
        "Data": None,
    }


def test_wrong_method_is_refused_in_the_envelope(client: TestClient) -> None:
    response = client.delete("/health")
    assert response.status_code == 405
    assert response.json()["IsSuccess"] is False


def test_openapi_docs_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    assert "/health" in schema["paths"]
