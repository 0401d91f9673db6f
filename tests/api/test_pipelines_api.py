"""The file-pipeline endpoints (contract 4.9) on a real app, database and Dagster
instance, with S3 on moto and SFTP on a loopback server.

The app gets the ``pipeline`` fixture's instance on ``app.state``, as ``smartcrop up``
gives it DAGSTER_HOME's: every run an endpoint reports must be on that instance.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from dagster import DagsterRunStatus
from fastapi import FastAPI

from api.app import create_app
from tests.exports.helpers import add_image, query
from tests.ingest.helpers import EXPECTED, SAMPLES, work_item_count
from tests.support.s3_server import ACCESS_KEY, REGION, SECRET_KEY

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
def api_app(pipeline, db_url: str) -> FastAPI:
    """Overrides tests/support/api.py's app: settings from the pipeline's file."""
    app = create_app(pipeline.settings, db_url)
    app.state.dagster_instance = pipeline.instance
    app.state.config_path = str(pipeline.config_path)
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
    assert len(body["run_ids"]) == 2 and body["run_id"] == body["run_ids"][-1]
    for run_id in body["run_ids"]:
        assert_run(pipeline, run_id)
    want = sum(EXPECTED["files"][n]["ingested_items"] for n in GOOD)
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
    failed_run = body["files"]["NBCU_20261120_corrupt.xlsx"]["run_id"]
    assert_run(pipeline, failed_run, DagsterRunStatus.FAILURE)


@pytest.mark.parametrize(
    "folder_path", ["/etc", "..", "../outside", "batch1/../../outside", "missing", ""]
)
def test_run_local_refuses_folders_outside_the_staging_root(
    client, admin, pipeline, folder_path: str
) -> None:
    (pipeline.tmp / "outside").mkdir()
    shutil.copy2(SAMPLES / GOOD[0], pipeline.tmp / "outside" / GOOD[0])
    stage(pipeline, "batch1", [])

    response = client.post(
        "/filewatcher/run-local", params={"folder_path": folder_path}, headers=admin
    )

    assert response.status_code == 400
    body = response.json()
    assert (body["IsSuccess"], body["StatusCode"], body["Data"]) == (False, 400, None)
    assert "folder" in body["Message"]
    assert work_item_count(pipeline.db_url) == 0
    assert pipeline.instance.get_runs() == []


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


# --- download-s3 / download-sftp ------------------------------------------------------


def test_download_s3_ingests_new_files_once(
    client, admin, pipeline, s3_server: str, s3_bucket
) -> None:
    s3, bucket = s3_bucket
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


def test_download_sftp_ingests_new_files_once(
    client, admin, pipeline, sftp_server
) -> None:
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

    assert set(body) == {"status", "run_id"} and body["status"] == "failed"
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
    response = client.post(f"/dumpdata/run?date_range={value}", headers=admin)
    assert response.status_code == 400
    body = response.json()
    assert (body["IsSuccess"], body["StatusCode"]) == (False, 400)
    assert "date_range" in body["Message"]
    assert pipeline.instance.get_runs() == []


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
    assert set(body) == {"status", "run_id"} and body["status"] == "failed"
    assert_run(pipeline, body["run_id"], DagsterRunStatus.FAILURE)
    assert len(list((pipeline.tmp / "dumps").iterdir())) == 4  # kept to be sent
