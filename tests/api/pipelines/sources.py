"""The sample manifests and the sources the file-pipeline endpoint tests configure, and
a run's status on the instance."""

from __future__ import annotations

import shutil
from pathlib import Path

from dagster import DagsterRunStatus

from tests.support.manifest_samples import SAMPLES
from tests.support.s3_server import REGION

GOOD = ["EMAIL_20261120.xlsx", "TMDB_20261120.xlsx"]


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


def watch_sftp_drop(pipeline, sftp_server) -> None:
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


def watch_s3_prefix(pipeline, s3_server: str, bucket: str) -> None:
    """The moto bucket's in/ prefix (and every folder under it) as the one S3 source."""
    pipeline.watch_s3(bucket, s3_server, prefix="in/", region=REGION)
