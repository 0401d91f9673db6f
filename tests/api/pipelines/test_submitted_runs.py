"""Runs submitted to the Dagster webserver and not run in the request: the wait limit
and a 202, the run-status route, a webserver that cannot be reached, a failed run."""

from __future__ import annotations

import shutil
import time

import pytest
from dagster import DagsterRunStatus
from fastapi import FastAPI
from sqlalchemy import make_url

from tests.api.pipelines.sources import GOOD, assert_run, watch_sftp_drop
from tests.support.export_setup import add_image
from tests.support.manifest_samples import SAMPLES
from tests.support.s3_server import REGION, free_port


def _with_dagster(api_app: FastAPI, pipeline, **dagster: object) -> None:
    """Change smartcrop_service.dagster for the app (and the file the runs read)."""
    service = pipeline.config["smartcrop_service"]
    service["dagster"] = {**service["dagster"], **dagster}
    pipeline.configure(smartcrop_service=service)


def test_a_run_still_going_at_the_limit_answers_202_then_its_body_later(
    client, admin, pipeline, api_app
) -> None:
    _with_dagster(api_app, pipeline, wait_seconds=0)
    add_image(pipeline.db_url, program_id="SH1")

    started = client.post("/batchjob/run", headers=admin)

    assert started.status_code == 202
    body = started.json()
    assert body["status"] == "running" and body["run_id"]
    run_id = body["run_id"]
    run = pipeline.instance.get_run_by_id(run_id)
    assert run is not None and run.tags["smartcrop/trigger"] == "api"
    deadline = time.monotonic() + 90
    while (
        answer := client.get(f"/filewatcher/runs/{run_id}", headers=admin)
    ).status_code == 202:
        assert answer.json() == {
            "status": "running",
            "run_id": run_id,
            "run_ids": [run_id],
        }
        assert time.monotonic() < deadline, "the run did not finish in 90 s"
        time.sleep(0.5)
    assert answer.status_code == 200
    final = answer.json()
    assert set(final) == {"status", "file", "run_id"} and final["status"] == "success"
    assert final["run_id"] == run_id
    assert (pipeline.tmp / "outbound" / final["file"]).is_file()
    assert_run(pipeline, run_id)


def test_the_run_status_route_is_admin_only_and_knows_its_runs(
    client, admin, token_for
) -> None:
    missing = client.get("/filewatcher/runs/not-a-run", headers=admin)
    assert missing.status_code == 404
    assert missing.json()["IsSuccess"] is False
    assert client.get("/filewatcher/runs/x").status_code == 401
    _, qa = token_for("qa")
    assert client.get("/filewatcher/runs/x", headers=qa).status_code == 403


@pytest.mark.parametrize(
    "path", ["/batchjob/run", "/dumpdata/run?date_range=1", "/filewatcher/download-s3"]
)
def test_a_webserver_that_cannot_be_reached_answers_503_and_starts_nothing(
    client, admin, pipeline, api_app, dagster_web, s3_server: str, s3_bucket, path: str
) -> None:
    s3, bucket = s3_bucket
    pipeline.watch_s3(bucket, s3_server, prefix=None, region=REGION)
    s3.upload_file(str(SAMPLES / GOOD[0]), bucket, GOOD[0])
    # A port nothing listens on.
    down = f"http://127.0.0.1:{free_port()}/graphql"
    _with_dagster(api_app, pipeline, graphql_url=down)
    runs_before = len(pipeline.instance.get_runs())
    partitions_before = pipeline.partitions()

    response = client.post(path, headers=admin)

    assert response.status_code == 503
    body = response.json()
    assert (body["IsSuccess"], body["StatusCode"]) == (False, 503)
    assert down in body["Message"] and "no run was started" in body["Message"]
    assert len(pipeline.instance.get_runs()) == runs_before
    assert pipeline.partitions() == partitions_before

    # Once the webserver is back, the same call starts the run and the file comes in.
    _with_dagster(api_app, pipeline, graphql_url=dagster_web.graphql_url)
    assert client.post(path, headers=admin).status_code == 200
    assert len(pipeline.instance.get_runs()) == runs_before + 1


def test_a_failed_download_run_answers_failed_with_dagsters_message(
    client, admin, pipeline, sftp_server
) -> None:
    watch_sftp_drop(pipeline, sftp_server)
    sftp_server.path("/drop").mkdir()
    shutil.copy2(SAMPLES / GOOD[1], sftp_server.path(f"/drop/{GOOD[1]}"))
    # The run is given a database that does not exist: it fails.
    url = make_url(pipeline.db_url)
    missing = url.set(database=f"{url.database}_missing")
    pipeline.configure(database={"url": missing.render_as_string(hide_password=False)})

    body = client.post("/filewatcher/download-sftp", headers=admin).json()

    assert body["status"] == "failed"
    assert_run(pipeline, body["run_id"], DagsterRunStatus.FAILURE)
    assert body["files"][GOOD[1]]["status"] == "failed"
    assert any(f"{url.database}_missing" in e for e in body["errors"]), body["errors"]
