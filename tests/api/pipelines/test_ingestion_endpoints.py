"""The ingestion endpoints (contract 4.9): who may call the file-pipeline endpoints,
run-local on the staging folder, download-s3 from moto and download-sftp from a
loopback server, on a real app, database and Dagster webserver."""

from __future__ import annotations

import shutil

import pytest
from dagster import DagsterRunStatus

from tests.api.pipelines.sources import (
    GOOD,
    assert_run,
    stage,
    watch_s3_prefix,
    watch_sftp_drop,
)
from tests.support.manifest_samples import EXPECTED, SAMPLES, work_item_count

ENDPOINTS = [
    "/filewatcher/run-local?folder_path=.",
    "/filewatcher/download-s3",
    "/filewatcher/download-sftp",
    "/filewatcher/batch/run",
    "/batchjob/run",
    "/dumpdata/run?date_range=1",
]

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


# --- download-s3 / download-sftp ------------------------------------------------------


def test_download_s3_ingests_new_files_once(
    client, admin, pipeline, s3_server: str, s3_bucket
) -> None:
    s3, bucket = s3_bucket
    watch_s3_prefix(pipeline, s3_server, bucket)
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
    watch_s3_prefix(pipeline, s3_server, bucket)
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
    watch_sftp_drop(pipeline, sftp_server)
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
