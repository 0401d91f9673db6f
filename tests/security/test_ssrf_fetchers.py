"""Server-side request forgery: every server-side fetch of a provider URL goes through
the fetch policy.

With default settings the suggestion asset, ``/image/SuggestCrops``,
``/image/SourceImage`` and the claim-time size read send the recording server nothing
for any hostile URL (tests/security/hostile_urls.py), and each refusal is recorded or
answered 400 with its reason; with its ``host:port`` in ``allowed_hosts`` the same
fetches work."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from smartcrop.errors import InvalidInput
from smartcrop.workflow.claims import claim_operator_programme
from tests.security.hostile_urls import METADATA, hostile
from tests.support.image_server import PNG_SIZE, SMALL_PNG, redirect, serve
from tests.support.manifest_samples import query
from tests.support.work_items import add_item, add_user, engine_for, sessions
from tests.support.workbooks import PRESS_HEADERS, press_row, write_xlsx


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    with engine_for(db_url) as engine:
        yield engine


# --- the suggestion asset ----------------------------------------------------------


def _ingest_manifest(pipeline, name: str, urls: list[str]) -> str:
    path = write_xlsx(
        pipeline.staging / name,
        [
            PRESS_HEADERS,
            *(
                press_row(f"SH00000000{n:04d}", Image_URL=url)
                for n, url in enumerate(urls, 1)
            ),
        ],
    )
    past = time.time() - 10
    os.utime(path, (past, past))
    result = pipeline.tick("local_staging_sensor")
    runs = pipeline.run(result)
    assert runs and all(run.success for run in runs)
    return result.run_requests[0].partition_key


def _suggest(pipeline, key: str) -> dict[str, tuple]:
    job = pipeline.definitions().resolve_job_def("suggest_crops")
    run = job.execute_in_process(
        partition_key=key, instance=pipeline.instance, raise_on_error=False
    )
    assert run.success
    rows = query(
        pipeline.db_url,
        "SELECT p.imageurl, f.status, f.reason FROM smartcrop_imagefetch f"
        " JOIN smartcrop_programimage p ON p.id = f.programimageid",
    )
    return {url: (status, reason) for url, status, reason in rows}


def test_the_suggestion_asset_records_each_refusal_and_sends_nothing(
    pipeline, recorder
) -> None:
    cases = hostile(recorder)
    with serve(
        {"/hop": redirect(f"{recorder.base}/secret")}, default=SMALL_PNG
    ) as front:
        pipeline.configure(
            smartcrop_service={"image_fetch": {"allowed_hosts": [front.host_port]}}
        )
        urls = [url for url, _ in cases.values()] + [f"{front.base}/hop"]
        key = _ingest_manifest(pipeline, "NBCU_SSRF.xlsx", urls)
        fetches = _suggest(pipeline, key)
    assert recorder.received == []
    for name, (url, words) in cases.items():
        status, reason = fetches[url]
        assert status == "failed" and words in reason, (name, reason)
        assert "fetch policy refuses" in reason
    status, reason = fetches[f"{front.base}/hop"]
    assert status == "failed" and "127.0.0.1 is a loopback" in reason


def test_the_suggestion_asset_fetches_an_allowed_host(pipeline, recorder) -> None:
    pipeline.configure(
        smartcrop_service={"image_fetch": {"allowed_hosts": [recorder.host_port]}}
    )
    url = f"{recorder.base}/allowed.png"
    key = _ingest_manifest(pipeline, "NBCU_ALLOWED.xlsx", [url])
    assert _suggest(pipeline, key) == {url: ("ok", None)}
    assert [r.path for r in recorder.received] == ["/allowed.png"]


# --- the API -----------------------------------------------------------------------


def _allowed_client(pipeline, db_url: str, allowed: list[str]) -> TestClient:
    pipeline.configure(smartcrop_service={"image_fetch": {"allowed_hosts": allowed}})
    return TestClient(create_app(pipeline.settings, db_url))


def test_the_api_refuses_each_hostile_url_with_400_and_sends_nothing(
    client, token_for, engine: Engine, recorder, db_url: str
) -> None:
    _, headers = token_for("operator")
    for n, (name, (url, words)) in enumerate(hostile(recorder).items(), 1):
        program = f"SH0000000099{n:02d}"
        image = add_item(engine, program, url=url)
        where = f"programId={program}&imageId={image}"
        suggested = client.get(f"/image/SuggestCrops?{where}", headers=headers)
        assert suggested.status_code == 400, (name, suggested.text)
        body = suggested.json()
        assert body["IsSuccess"] is False and words in body["Message"], name
        source = client.get(f"/image/SourceImage?{where}", headers=headers)
        assert source.status_code == 400, name
        assert words in source.json()["Message"], name
        recorded = query(
            db_url,
            "SELECT status, reason FROM smartcrop_imagefetch WHERE programimageid = %s",
            (image,),
        )
        assert recorded[0][0] == "failed" and words in recorded[0][1], name
    assert recorder.received == []


def test_the_api_fetches_an_allowed_host(
    pipeline, token_for, engine: Engine, recorder, db_url: str
) -> None:
    _, headers = token_for("operator")
    image = add_item(engine, "SH000000009801", url=f"{recorder.base}/a.png")
    where = f"programId=SH000000009801&imageId={image}"
    with _allowed_client(pipeline, db_url, [recorder.host_port]) as allowed:
        suggested = allowed.get(f"/image/SuggestCrops?{where}", headers=headers)
        assert suggested.status_code == 200, suggested.text
        assert suggested.json()["Data"]["Fetch"]["Status"] == "ok"
        source = allowed.get(f"/image/SourceImage?{where}", headers=headers)
        assert source.status_code == 200
        assert source.content.startswith(b"\x89PNG")
    assert [r.path for r in recorder.received] == ["/a.png", "/a.png"]


def test_the_claim_time_size_read_refuses_and_then_allows(
    client, pipeline, token_for, engine: Engine, recorder, db_url: str
) -> None:
    user, headers = token_for("operator")
    image = add_item(
        engine, "SH000000009701", url=f"{recorder.base}/s.png", width=None, height=None
    )
    claim = f"/image/GetImageInfo?providerName=NBCU&user={user}"
    refused = client.get(claim, headers=headers)
    assert refused.status_code == 400
    message = refused.json()["Message"]
    assert f"image {image} of programme SH000000009701" in message
    assert "127.0.0.1 is a loopback" in message
    assert recorder.received == []
    with _allowed_client(pipeline, db_url, [recorder.host_port]) as allowed:
        claimed = allowed.get(claim, headers=headers)
    assert claimed.status_code == 200, claimed.text
    sizes = {
        i["ImageId"]: (i["Width"], i["Height"])
        for i in claimed.json()["Data"]["Images"]
    }
    assert sizes[image] == PNG_SIZE
    assert [r.path for r in recorder.received] == ["/s.png"]


def test_the_claim_function_defaults_to_refusing(engine: Engine, recorder) -> None:
    user = add_user(engine)
    add_item(engine, "SH1", url=METADATA, width=None, height=None)
    with sessions(engine)() as session, pytest.raises(InvalidInput) as refused:
        claim_operator_programme(
            session, "NBCU", user, actor_id=user, lock_timeout_minutes=30
        )
    assert "169.254.169.254 is a link-local" in refused.value.message
