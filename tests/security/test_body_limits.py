"""Oversized bodies and oversized renditions: refused in the envelope (413, or 400
for a rendition over ``max_rendition_bytes``), never a 500, and the server's memory
stays flat however much a client sends (api/limits.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.limits import DEFAULT_MAX_BODY_BYTES, rendition_body_cap
from tests.support.api_process import api_process, raw_post, write_config
from tests.support.work_items import add_item, engine_for, image_b64, states

MB = 1 << 20
SMALL_RENDITIONS = 2_000  # max_rendition_bytes for these tests: small bodies suffice


def _refused(response, status: int) -> dict:
    assert response.status_code == status, response.text[:300]
    body = response.json()
    assert (body["IsSuccess"], body["StatusCode"]) == (False, status)
    assert body["Data"] is None
    return body


@pytest.fixture
def small_client(pipeline, db_url: str) -> Iterator[TestClient]:
    pipeline.configure(smartcrop_service={"max_rendition_bytes": SMALL_RENDITIONS})
    app = create_app(pipeline.settings, db_url)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_a_50_mb_json_body_is_413_on_any_route(client: TestClient, token_for) -> None:
    _, admin = token_for("admin")
    body = json.dumps({"EmailID": "a@example.com", "Password": "x" * (50 * MB)})
    for path in ("/user/Login", "/role/Create", "/rule/Create", "/user/Register"):
        message = _refused(
            client.post(
                path,
                content=body,
                headers={**admin, "Content-Type": "application/json"},
            ),
            413,
        )["Message"]
        assert f"{DEFAULT_MAX_BODY_BYTES:,}" in message
    # Just under the cap is read, and refused for what it says, not for its size.
    under = json.dumps({"RoleName": "x" * (DEFAULT_MAX_BODY_BYTES - 100)})
    _refused(client.post("/role/Create", content=under, headers=admin), 422)


def test_a_chunked_body_is_counted_as_it_arrives(client: TestClient, token_for):
    _, admin = token_for("admin")

    def chunks() -> Iterator[bytes]:
        yield b'{"RoleName": "'
        for _ in range(8):
            yield b"r" * MB
        yield b'"}'

    response = client.post(
        "/role/Create",
        content=chunks(),
        headers={**admin, "Content-Type": "application/json"},
    )
    _refused(response, 413)
    assert client.get("/role/Get", headers=admin).json()["Data"] is not None


def test_renditions_have_their_own_cap_and_an_oversized_one_is_400(
    small_client: TestClient, token_for, pipeline, db_url: str
) -> None:
    operator_id, operator = token_for("operator")
    with engine_for(db_url) as engine:
        image_id = add_item(engine, "SH000000000777")
        claim = small_client.get(
            "/image/GetImageInfo",
            params={"providerName": "NBCU", "user": operator_id},
            headers=operator,
        )
        assert claim.status_code == 200, claim.text
        assert states(engine, image_id) == [(1, 1, operator_id)]

        def save(renditions: list[dict]) -> httpx.Response:
            return small_client.post(
                "/image/SaveCropedImages",
                json={
                    "ProgramId": "SH000000000777",
                    "UserId": operator_id,
                    "Images": [
                        {"ImageId": image_id, "Status": 2, "Renditions": renditions}
                    ],
                },
                headers=operator,
            )

        noise = image_b64(160, 90, noise=True)  # ~43 KB, over 2,000 bytes
        over = save(
            [
                {
                    "AspectRatioId": 1,
                    "X": 0,
                    "Y": 0,
                    "Width": 160,
                    "Height": 90,
                    "ImageBase64": noise,
                }
            ]
        )
        assert "bytes" in _refused(over, 400)["Message"]
        garbage = save(
            [
                {
                    "AspectRatioId": 1,
                    "X": 0,
                    "Y": 0,
                    "Width": 160,
                    "Height": 90,
                    "ImageBase64": "!!not base64!!" * 50,
                }
            ]
        )
        _refused(garbage, 400)
        cap = rendition_body_cap(pipeline.settings)
        huge = save(
            [
                {
                    "AspectRatioId": 1,
                    "X": 0,
                    "Y": 0,
                    "Width": 160,
                    "Height": 90,
                    "ImageBase64": "A" * (cap + 1),
                }
            ]
        )
        _refused(huge, 413)
        # Nothing was saved; the operator still holds the image.
        assert states(engine, image_id) == [(1, 1, operator_id)]
        with engine.connect() as conn:
            from sqlalchemy import text  # noqa: PLC0415

            count = conn.execute(
                text("SELECT count(*) FROM smartcrop_aspectratioimages")
            ).scalar_one()
        assert count == 0


@pytest.mark.slow
def test_the_server_memory_stays_flat_under_50_mb_bodies(
    db_url: str, tmp_path: Path
) -> None:
    """A real ``smartcrop api`` process: 50 MB bodies, announced and chunked, to a
    small route and to a rendition route, do not raise its peak memory."""
    config = write_config(tmp_path / "config.yml", tmp_path)
    with api_process(config, db_url, tmp_path / "api.log") as server:
        raw_post(server.port, "/user/Login", 1000)  # warm up the request path
        _, peak_before = server.memory_kib()
        for path in ("/user/Login", "/image/SaveCropedImages"):
            for chunked in (False, True):
                answer = raw_post(server.port, path, 50 * MB, chunked=chunked)
                status = answer.split(b"\r\n", 1)[0]
                # Anonymous: only the default cap, whatever the route.
                assert b" 413 " in status, (path, chunked, status)
        _, peak_after = server.memory_kib()
        assert httpx.get(server.base_url + "/health").status_code == 200
        grown_mb = (peak_after - peak_before) / 1024
        assert grown_mb < 64, f"peak memory grew by {grown_mb:.0f} MB"
        assert "Traceback" not in server.output()
