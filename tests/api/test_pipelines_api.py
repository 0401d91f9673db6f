"""The file-pipeline endpoints (contract 4.9) on a real app, database and Dagster
webserver, with S3 on moto and SFTP on a loopback server.

Every endpoint submits its runs to the webserver (tests/support/dagster_web.py), which
launches them in run worker processes; the app reads the answers from the same
instance, as ``smartcrop up`` gives it DAGSTER_HOME's: every run an endpoint reports
must be on that instance.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from dagster import DagsterRunStatus
from fastapi import FastAPI
from sqlalchemy import make_url

from api.app import create_app
from tests.support.export_setup import add_image, query
from tests.support.manifest_samples import EXPECTED, SAMPLES, work_item_count
from tests.support.s3_server import ACCESS_KEY, REGION, SECRET_KEY, free_port

GOOD = ["EMAIL_20261120.xlsx", "TMDB_20261120.xlsx"]
ENDPOINTS = [
    "/filewatcher/run-local?folder_path=.",
    "/filewatcher/download-s3",
    "/filewatcher/download-sftp",
    "/filewatcher/batch/run",
    "/batchjob/run",
    "/dumpdata/run?date_range=1",
]


@pytest.fixture
def pipeline(web_pipeline):
    """Overrides tests/support/pipelines.py's: the runs go through the webserver."""
    return web_pipeline


@pytest.fixture
def api_app(pipeline, db_url: str) -> FastAPI:
    """Overrides tests/support/api.py's app: settings from the pipeline's file."""
    app = create_app(pipeline.settings, db_url)
    app.state.dagster_instance = pipeline.instance
    # A test that changes the settings (a source, a target) changes them for the app
    # too, as a restart with the new file would.
    pipeline.on_configure.append(
        lambda: setattr(app.state, "settings", pipeline.settings)
    )
    return app


@pytest.fixture
def admin(token_for) -> dict[str, str]:
    return token_for("admin")[1]


def assert_run(pipeline, run_id: str, status=DagsterRunStatus.SUCCESS) -> None:
    run = pipeline.instance.get_run_by_id(run_id)
    assert run is not None, f"run {run_id} is not on the instance"
    assert run.status == status


def stage(pipeline, folder: str, names: list[str]) -> Path:
    target = pipeline.staging / folder
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy2(SAMPLES / name, target / name)
    return target


# --- who may call ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ENDPOINTS)
def test_admin_only(client, token_for, path: str) -> None:
    assert client.post(path).status_code == 401
    for role in ("operator", "qa"):
        _, headers = token_for(role)
        response = client.post(path, headers=headers)
        assert response.status_code == 403
        assert response.json()["IsSuccess"] is False


# --- run-local ------------------------------------------------------------------------


def test_run_local_ingests_a_staging_folder_through_the_job(
    client, admin, pipeline
) -> None:
    folder = stage(pipeline, "batch1", GOOD)

    response = client.post(
        "/filewatcher/run-local", params={"folder_path": "batch1"}, headers=admin
    )

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "success"
    assert "IsSuccess" not in body  # plain JSON, not the envelope
    # Two files, one run over the range of their partitions, as the sensors batch.
    assert body["run_ids"] == [body["run_id"]]
    assert_run(pipeline, body["run_id"])
    assert {name: f["run_id"] for name, f in body["files"].items()} == {
        name: body["run_id"] for name in GOOD
    }
    assert {f["status"] for f in body["files"].values()} == {"ingested"}
    want = sum(EXPECTED["files"][n]["ingested_items"] for n in GOOD)
    assert body["total_new_items"] == want
    assert work_item_count(pipeline.db_url) == want
    assert sorted(p.name for p in folder.iterdir()) == sorted(GOOD)  # copied

    # An absolute path under the root works too; nothing new comes of it.
    again = client.post(
        "/filewatcher/run-local", params={"folder_path": str(folder)}, headers=admin
    )
    assert again.json()["status"] == "success"
    assert work_item_count(pipeline.db_url) == want


def test_run_local_reports_a_failed_file(client, admin, pipeline) -> None:
    stage(pipeline, "bad", ["EMAIL_20261120.xlsx", "NBCU_20261120_corrupt.xlsx"])

    body = client.post(
        "/filewatcher/run-local", params={"folder_path": "bad"}, headers=admin
    ).json()

    assert body["status"] == "failed"
    assert body["files"]["NBCU_20261120_corrupt.xlsx"]["status"] == "failed"
    assert body["files"]["EMAIL_20261120.xlsx"]["status"] == "ingested"
    assert body["files"]["NBCU_20261120_corrupt.xlsx"]["error"]
    failed_run = body["files"]["NBCU_20261120_corrupt.xlsx"]["run_id"]
    # The two files share a run when both partitions are new (the module's instance
    # may already hold the EMAIL file's from an earlier test): a batch records each
    # file's failure and goes on; a run of the bad file alone fails.
    shared = failed_run == body["files"]["EMAIL_20261120.xlsx"]["run_id"]
    expected = DagsterRunStatus.SUCCESS if shared else DagsterRunStatus.FAILURE
    assert_run(pipeline, failed_run, expected)


@pytest.mark.parametrize(
    "folder_path", ["/etc", "..", "../outside", "batch1/../../outside", "missing", ""]
)
def test_run_local_refuses_folders_outside_the_staging_root(
    client, admin, pipeline, folder_path: str
) -> None:
    (pipeline.tmp / "outside").mkdir()
    shutil.copy2(SAMPLES / GOOD[0], pipeline.tmp / "outside" / GOOD[0])
    stage(pipeline, "batch1", [])
    runs_before = len(pipeline.instance.get_runs())

    response = client.post(
        "/filewatcher/run-local", params={"folder_path": folder_path}, headers=admin
    )

    assert response.status_code == 400
    body = response.json()
    assert (body["IsSuccess"], body["StatusCode"], body["Data"]) == (False, 400, None)
    assert "folder" in body["Message"]
    assert work_item_count(pipeline.db_url) == 0
    assert len(pipeline.instance.get_runs()) == runs_before


def test_run_local_never_follows_links_out_of_the_root(client, admin, pipeline) -> None:
    outside = pipeline.tmp / "outside"
    outside.mkdir()
    shutil.copy2(SAMPLES / GOOD[0], outside / GOOD[0])
    (pipeline.staging / "linked").symlink_to(outside, target_is_directory=True)
    inside = stage(pipeline, "mixed", [])
    (inside / GOOD[0]).symlink_to(outside / GOOD[0])

    refused = client.post(
        "/filewatcher/run-local", params={"folder_path": "linked"}, headers=admin
    )
    skipped = client.post(
        "/filewatcher/run-local", params={"folder_path": "mixed"}, headers=admin
    )

    assert refused.status_code == 400
    assert skipped.json() == {
        "status": "success",
        "run_id": None,
        "run_ids": [],
        "files": {},
        "total_new_items": 0,
    }
    assert work_item_count(pipeline.db_url) == 0


def _watch_sftp_drop(pipeline, sftp_server) -> None:
    """The loopback SFTP server's /drop folder as the one SFTP source."""
    pipeline.configure(
        filewatcher={
            "sftp_sources": [
                {
                    "host": sftp_server.host,
                    "port": sftp_server.port,
                    "directory": "/drop",
                    "credentials": {
                        "username": sftp_server.username,
                        "password": sftp_server.password,
                    },
                }
            ]
        }
    )


# --- download-s3 / download-sftp ------------------------------------------------------


def _watch_s3_prefix(pipeline, s3_server: str, bucket: str) -> None:
    """The moto bucket's in/ prefix (and every folder under it) as the one S3 source."""
    pipeline.configure(
        aws_config={"access_key_id": ACCESS_KEY, "secret_access_key": SECRET_KEY},
        filewatcher={
            "s3_sources": [
                {
                    "bucket": bucket,
                    "prefix": "in/",
                    "endpoint_url": s3_server,
                    "region": REGION,
                }
            ]
        },
    )


def test_download_s3_ingests_new_files_once(
    client, admin, pipeline, s3_server: str, s3_bucket
) -> None:
    s3, bucket = s3_bucket
    _watch_s3_prefix(pipeline, s3_server, bucket)
    s3.upload_file(str(SAMPLES / GOOD[0]), bucket, f"in/{GOOD[0]}")
    s3.put_object(Bucket=bucket, Key="in/readme.txt", Body=b"not a manifest")

    first = client.post("/filewatcher/download-s3", headers=admin).json()

    assert first["status"] == "success"
    assert list(first["files"]) == [GOOD[0]]
    assert_run(pipeline, first["run_id"])
    assert work_item_count(pipeline.db_url) == 6
    again = client.post("/filewatcher/download-s3", headers=admin).json()
    assert again == {"status": "no_files", "run_id": None, "run_ids": [], "files": {}}

    s3.upload_file(str(SAMPLES / GOOD[1]), bucket, f"in/{GOOD[1]}")
    third = client.post("/filewatcher/download-s3", headers=admin).json()
    assert third["status"] == "success" and list(third["files"]) == [GOOD[1]]
    assert_run(pipeline, third["run_id"])


def test_download_s3_answers_failed_when_a_new_file_failed_as_run_local_does(
    client, admin, pipeline, s3_server: str, s3_bucket
) -> None:
    """A bad file batched with a good one fails alone and its run succeeds: the call
    still answers failed, with the file's error, even when the good file has the same
    name (providers reuse names across dated folders) and comes later."""
    s3, bucket = s3_bucket
    _watch_s3_prefix(pipeline, s3_server, bucket)
    name = "EMAIL_20261120.xlsx"
    bad, good = f"in/2026-11-19/{name}", f"in/2026-11-20/{name}"
    s3.upload_file(str(SAMPLES / "NBCU_20261120_corrupt.xlsx"), bucket, bad)
    s3.upload_file(str(SAMPLES / name), bucket, good)

    body = client.post("/filewatcher/download-s3", headers=admin).json()

    assert body["status"] == "failed", body
    assert body["run_ids"] == [body["run_id"]]  # one batch run, and it succeeded
    assert_run(pipeline, body["run_id"])
    # Both files are reported, each under where it came from.
    assert {where: f["status"] for where, f in body["files"].items()} == {
        f"s3://{bucket}/{bad}": "failed",
        f"s3://{bucket}/{good}": "ingested",
    }
    assert body["files"][f"s3://{bucket}/{bad}"]["error"].startswith(
        "not a readable workbook"
    )
    assert work_item_count(pipeline.db_url) == EXPECTED["files"][name]["ingested_items"]


def test_download_sftp_ingests_new_files_once(
    client, admin, pipeline, sftp_server
) -> None:
    _watch_sftp_drop(pipeline, sftp_server)
    sftp_server.path("/drop").mkdir()
    assert client.post("/filewatcher/download-sftp", headers=admin).json()[
        "status"
    ] == ("no_files")
    shutil.copy2(SAMPLES / GOOD[1], sftp_server.path(f"/drop/{GOOD[1]}"))

    body = client.post("/filewatcher/download-sftp", headers=admin).json()

    assert body["status"] == "success"
    assert_run(pipeline, body["run_id"])
    assert work_item_count(pipeline.db_url) == 30
    assert client.post("/filewatcher/download-sftp", headers=admin).json()[
        "status"
    ] == ("no_files")


def test_download_sftp_fails_when_no_source_answers(
    client, admin, pipeline, sftp_server
) -> None:
    pipeline.configure(
        filewatcher={
            "sftp_sources": [
                {
                    "host": sftp_server.host,
                    "port": sftp_server.port,
                    "directory": "/",
                    "credentials": {"username": "nobody", "password": "wrong-pass"},
                }
            ]
        }
    )
    body = client.post("/filewatcher/download-sftp", headers=admin).json()
    assert body["status"] == "failed"
    assert "refused" in body["errors"][0]
    assert sftp_server.password not in str(body)


# --- the manifest ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/filewatcher/batch/run", "/batchjob/run"])
def test_batch_run_exports_then_has_no_rows(client, admin, pipeline, path) -> None:
    add_image(pipeline.db_url, program_id="SH1")

    response = client.post(path, headers=admin)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"status", "file", "run_id"}
    assert body["status"] == "success"
    assert body["file"].startswith("SmartCrop_Manifest_")
    assert_run(pipeline, body["run_id"])
    assert (pipeline.tmp / "outbound" / body["file"]).is_file()
    assert query(
        pipeline.db_url, "SELECT outputfilename FROM smartcrop_programimage"
    ) == [(body["file"],)]

    again = client.post(path, headers=admin).json()
    assert set(again) == {"status", "run_id"} and again["status"] == "no_rows"
    assert_run(pipeline, again["run_id"])


def test_batch_run_answers_failed_when_the_upload_fails(
    client, admin, pipeline
) -> None:
    # An SFTP target without a server: the upload fails and nothing is stamped.
    pipeline.configure(smartcrop_filewatcher_batchjob={"targets": ["sftp"]})
    add_image(pipeline.db_url, program_id="SH1")

    body = client.post("/batchjob/run", headers=admin).json()

    assert set(body) == {"status", "run_id", "error"} and body["status"] == "failed"
    assert_run(pipeline, body["run_id"], DagsterRunStatus.FAILURE)
    assert query(
        pipeline.db_url, "SELECT outputfilename FROM smartcrop_programimage"
    ) == [(None,)]


# --- dumps ----------------------------------------------------------------------------


def test_dumpdata_run_writes_the_four_files(client, admin, pipeline) -> None:
    add_image(pipeline.db_url, program_id="SH1")

    body = client.post("/dumpdata/run?date_range=3", headers=admin).json()

    assert body["status"] == "success"
    assert [name.rsplit("_", 2)[0] for name in body["files"]] == [
        "SmartCrop_Program",
        "SmartCrop_Aspect",
        "SmartCrop_Summary",
        "SmartCrop_Audit",
    ]
    assert_run(pipeline, body["run_id"])
    run = pipeline.instance.get_run_by_id(body["run_id"])
    assert run.run_config["ops"]["dump_snapshots"]["config"]["date_range"] == 3
    assert sorted(p.name for p in (pipeline.tmp / "dumps").iterdir()) == sorted(
        body["files"]
    )


@pytest.mark.parametrize("value", ["0", "31", "-1", "abc", "2.5"])
def test_dumpdata_run_refuses_a_bad_date_range(
    client, admin, pipeline, value: str
) -> None:
    runs_before = len(pipeline.instance.get_runs())
    response = client.post(f"/dumpdata/run?date_range={value}", headers=admin)
    assert response.status_code == 400
    body = response.json()
    assert (body["IsSuccess"], body["StatusCode"]) == (False, 400)
    assert "date_range" in body["Message"]
    assert len(pipeline.instance.get_runs()) == runs_before


def test_dumpdata_run_fails_when_an_upload_fails(
    client, admin, pipeline, sftp_server
) -> None:
    pipeline.configure(
        smartcrop_ftp_config={
            "host": sftp_server.host,
            "ports": {"output": sftp_server.port, "audit": sftp_server.port},
            "directories": {"output": "/outbound", "audit": "/audit"},
            "credentials": {"username": "nobody", "password": "wrong-pass"},
        }
    )
    body = client.post("/dumpdata/run?date_range=1", headers=admin).json()
    assert set(body) == {"status", "run_id", "error"} and body["status"] == "failed"
    assert_run(pipeline, body["run_id"], DagsterRunStatus.FAILURE)
    assert len(list((pipeline.tmp / "dumps").iterdir())) == 4  # kept to be sent


# --- submitted, not run here: the wait, the run-status route, Dagster down ------------


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
    pipeline.configure(
        aws_config={"access_key_id": ACCESS_KEY, "secret_access_key": SECRET_KEY},
        filewatcher={
            "s3_sources": [
                {"bucket": bucket, "endpoint_url": s3_server, "region": REGION}
            ]
        },
    )
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
    _watch_sftp_drop(pipeline, sftp_server)
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
