"""Helpers of the workflow API tests: another app on the same database, a real server,
claim calls and the envelope of an answer.

Tokens from ``token_for`` work on every app built here: they share the test's
settings folder, hence its signing secret.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from tests.support.work_items import image_b64


@contextmanager
def client_for(settings: Any, db_url: str) -> Iterator[TestClient]:
    app = create_app(settings, db_url)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)
        sock.close()


def rendition(
    ratio_id: int, width: int, height: int, *, x: int = 0, y: int = 0, fmt="PNG"
) -> dict[str, Any]:
    return {
        "AspectRatioId": ratio_id,
        "X": x,
        "Y": y,
        "Width": width,
        "Height": height,
        "ImageBase64": image_b64(width, height, fmt),
    }


def standard_renditions() -> list[dict[str, Any]]:
    """A 16x9 PNG and a 1x1 JPEG, inside a 2000x3000 source."""
    return [rendition(1, 160, 90), rendition(5, 100, 100, x=10, y=20, fmt="JPEG")]


def save_body(
    program_id: str, user_id: int, images: list[tuple[int, int, int | None, list]]
) -> dict[str, Any]:
    return {
        "ProgramId": program_id,
        "UserId": user_id,
        "Images": [
            {
                "ImageId": image_id,
                "Status": status,
                "RejectReasonId": reason,
                "Renditions": renditions,
            }
            for image_id, status, reason, renditions in images
        ],
    }


def claim(client: TestClient, headers: dict, user: int, provider: str = "NBCU"):
    return client.get(
        "/image/GetImageInfo",
        params={"providerName": provider, "user": user},
        headers=headers,
    )


def qa_claim(client: TestClient, headers: dict, user: int, program_id: str = ""):
    return client.get(
        "/image/GetCroppedImageInfo",
        params={"programId": program_id, "user": user},
        headers=headers,
    )


def data(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["IsSuccess"] is True and body["StatusCode"] == 200
    return body["Data"]


def success_data(response: httpx.Response) -> Any:
    """The ``Data`` of a read: 200 with the envelope's plain ``Success``."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["IsSuccess"], body["StatusCode"], body["Message"]) == (
        True,
        200,
        "Success",
    )
    return body["Data"]


def operator_save(
    client: TestClient,
    headers: dict[str, str],
    user: int,
    provider: str,
    status: int,
    reason: int | None = None,
    renditions: list[dict[str, Any]] | None = None,
) -> str:
    """An operator claims the next programme of ``provider`` and saves every image
    with ``status`` (and ``reason``), the standard renditions unless given; returns
    the programme's id."""
    programme = data(claim(client, headers, user, provider))
    images = [
        (
            i["ImageId"],
            status,
            reason,
            standard_renditions() if renditions is None else renditions,
        )
        for i in programme["Images"]
    ]
    body = save_body(programme["ProgramId"], user, images)
    saved = client.post("/image/SaveCropedImages", json=body, headers=headers)
    assert saved.status_code == 200, saved.text
    return str(programme["ProgramId"])


def refused(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["IsSuccess"] is False and body["StatusCode"] == status
    assert body["Data"] is None
    return body["Message"]
