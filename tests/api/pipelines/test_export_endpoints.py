"""The export endpoints (contract 4.9): the manifest batch run and the dumps, on a real
app, database and Dagster webserver."""

from __future__ import annotations

import pytest
from dagster import DagsterRunStatus

from tests.api.pipelines.sources import assert_run
from tests.support.export_setup import add_image, query

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
