"""The clients reach the Dagster code as resources, swapped by resource.

The settings say which buckets and hosts are watched; the S3, SFTP and rendition-store
clients come from ``resources/``. Each test here points the settings at a place where
nothing answers and swaps in a resource that reaches the real test server: the run
works only if the sensor and the asset use the resource they were given.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from dagster import materialize

from assets.ingestion import manifest_file
from resources import (
    RenditionStorageResource,
    S3ClientResource,
    SftpResource,
    build_resources,
)
from smartcrop.renditions.storage import S3Storage
from smartcrop.settings import SftpSource
from smartcrop.transfer.sftp import SftpEndpoint
from tests.support.export_setup import add_image, ftp_sections, s3_sections
from tests.support.manifest_samples import SAMPLES, copy_samples, upload_rows
from tests.support.pipelines import files_of
from tests.support.s3_server import ACCESS_KEY, REGION, SECRET_KEY

REPO_ROOT = Path(__file__).resolve().parents[2]
# Port 9 (discard): nothing listens there, as in tests/config.test.yml.
NOWHERE = "127.0.0.1"
NOWHERE_URL = "http://127.0.0.1:9"


def test_an_s3_resource_swapped_in_is_what_the_sensor_and_the_asset_use(
    pipeline, s3_bucket, s3_server
) -> None:
    client, bucket = s3_bucket
    pipeline.watch_s3(bucket, NOWHERE_URL)
    client.upload_file(
        str(SAMPLES / "NBCU_20261120.xlsx"), bucket, "incoming/NBCU_20261120.xlsx"
    )
    # As the settings say, the bucket cannot be reached: nothing is handed out.
    assert pipeline.tick("s3_manifest_sensor").run_requests == []

    pipeline.resources["s3"] = S3ClientResource(endpoint_url=s3_server)
    pipeline.cursors.clear()
    found = pipeline.tick("s3_manifest_sensor")
    assert files_of(found) == ["NBCU_20261120.xlsx"]
    assert all(run.success for run in pipeline.run(found))
    assert upload_rows(pipeline.db_url)["NBCU_20261120.xlsx"][:3] == (
        "ingested",
        "NBCU",
        40,
    )


# What the recording SFTP resource was asked for, by the sensor and by the asset.
ASKED: list[tuple[str, int]] = []


class RedirectingSftp(SftpResource):
    """Records each source it is asked about and sends it to the test's server."""

    host: str
    port: int

    def endpoint_for(self, source: SftpSource) -> SftpEndpoint:
        ASKED.append((source.host, source.port))
        return dataclasses.replace(
            super().endpoint_for(source), host=self.host, port=self.port
        )


def test_a_recording_sftp_resource_is_what_the_sensor_and_the_asset_use(
    pipeline, sftp_server
) -> None:
    ASKED.clear()
    copy_samples(sftp_server.path("/outbound"), ["TMDB_20261120.xlsx"])
    pipeline.configure(
        filewatcher={
            "sftp_sources": [
                {
                    "host": NOWHERE,
                    "port": 9,
                    "directory": "/outbound",
                    "credentials": {
                        "username": sftp_server.username,
                        "password": sftp_server.password,
                    },
                }
            ]
        }
    )
    sftp = RedirectingSftp(host=sftp_server.host, port=sftp_server.port, timeout=5.0)
    pipeline.resources["sftp"] = sftp
    found = pipeline.tick("sftp_manifest_sensor")
    assert files_of(found) == ["TMDB_20261120.xlsx"]
    assert ASKED == [(NOWHERE, 9)]
    [request] = found.run_requests
    # The settings still say where the file is; the resource reaches it.
    assert request.run_config["ops"]["manifest_file"]["config"]["location"] == (
        f"sftp://{NOWHERE}:9/outbound/TMDB_20261120.xlsx"
    )

    # manifest_file alone, given its resources by materialize().
    pipeline.instance.add_dynamic_partitions("manifest_files", [request.partition_key])
    result = materialize(
        [manifest_file],
        partition_key=request.partition_key,
        run_config=request.run_config,
        instance=pipeline.instance,
        resources={
            **build_resources(pipeline.db_url, str(pipeline.config_path)),
            "sftp": sftp,
        },
    )
    assert result.success
    assert ASKED == [(NOWHERE, 9), (NOWHERE, 9)]
    [materialization] = result.asset_materializations_for_node("manifest_file")
    assert materialization.metadata["status"].value == "pending"
    assert materialization.metadata["file"].value == "TMDB_20261120.xlsx"


def test_the_rendition_store_takes_its_s3_client_from_its_resource(
    s3_server: str, s3_bucket: tuple[Any, str], settings_for
) -> None:
    _, bucket = s3_bucket
    settings = settings_for(
        "",
        smartcrop_service={"storage": {"backend": "s3", "endpoint_url": NOWHERE_URL}},
        aws_config={
            "service_accounts": [{"uat": {"smartcrop_bucket": bucket}}],
            "region": REGION,
            "access_key_id": ACCESS_KEY,
            "secret_access_key": SECRET_KEY,
        },
    )
    built = build_resources()["rendition_storage"]
    # The API's timeouts, as the settings' store has.
    assert (built.connect_timeout, built.read_timeout) == (5.0, 30.0)
    swapped = RenditionStorageResource(endpoint_url=s3_server)
    storage = swapped.open(settings)
    assert isinstance(storage, S3Storage) and storage.bucket == bucket
    storage.put("NBCU/SH1/1/16x9.png", b"\x89PNG", "image/png")
    assert storage.get("NBCU/SH1/1/16x9.png") == b"\x89PNG"


def test_an_s3_resource_s_fields_win_over_the_settings_and_keep_the_client_rules() -> (
    None
):
    resource = S3ClientResource(region_name="eu-west-2")
    client = resource.make_client(
        endpoint_url="http://s3.example:9000",
        region="us-east-1",
        access_key="from-settings",
        secret_key="from-settings-secret",
    )
    assert client.meta.region_name == "eu-west-2"
    assert client.meta.endpoint_url == "http://s3.example:9000"
    # botocore tries once (our retries own the budget); a custom endpoint is path-style.
    assert client.meta.config.retries["total_max_attempts"] == 1
    assert client.meta.config.s3["addressing_style"] == "path"
    assert client._request_signer._credentials.access_key == "from-settings"
    # Keys set on the resource replace the settings' pair.
    own = S3ClientResource(aws_access_key_id="mine", aws_secret_access_key="s")
    creds = own.make_client(
        endpoint_url=None, region=None, access_key="theirs", secret_key="t"
    )._request_signer._credentials
    assert (creds.access_key, creds.secret_key) == ("mine", "s")
    # A step's context gets the resource, not a client made for every step.
    assert resource.get_object_to_set_on_execution_context() is resource


def test_no_secret_is_resource_config() -> None:
    """The code location shows its resources' config in the UI: the keys and
    passwords stay in the settings and reach the clients at call time."""

    def secrets(config: dict[str, Any]) -> list[str]:
        found = []
        for name, value in config.items():
            if isinstance(value, dict):
                found += secrets(value)
            elif value and any(w in name for w in ("secret", "password", "key_id")):
                found.append(name)
        return found

    for key, resource in build_resources("", None).items():
        assert not secrets(resource.model_dump()), key


def test_loading_the_definitions_raises_no_beta_warning(tmp_path: Path) -> None:
    """backfill_policy's BetaWarning is ignored where it is raised (assets.partitions)
    and nowhere else: a fresh process that loads the definitions sees none."""
    script = textwrap.dedent("""
        import warnings
        import dagster
        warnings.simplefilter("error", dagster.BetaWarning)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            from pipelines.definitions import build_definitions
            defs = build_definitions(config_path="tests/config.test.yml")
            defs.resolve_all_job_defs()
        beta = [str(w.message) for w in caught if w.category is dagster.BetaWarning]
        assert not beta, beta
        # Another use of a beta parameter still warns.
        try:
            dagster.asset(backfill_policy=dagster.BackfillPolicy.single_run())
        except dagster.BetaWarning:
            print("others still warn")
        """)
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        env={
            **os.environ,
            "DAGSTER_HOME": str(tmp_path),
            "PYTHONPATH": str(REPO_ROOT),
        },
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "others still warn" in result.stdout


class RedirectingDelivery(SftpResource):
    """Sends every endpoint the settings describe to the test's SFTP server."""

    host: str
    port: int

    def adjust(self, endpoint: SftpEndpoint) -> SftpEndpoint:
        return dataclasses.replace(
            super().adjust(endpoint), host=self.host, port=self.port
        )


def test_the_manifest_and_the_dumps_are_sent_with_the_resources_clients(
    pipeline, s3_bucket, s3_server, sftp_server
) -> None:
    """The export assets reach the renditions bucket and the delivery SFTP server
    through the ``s3`` and ``sftp`` resources: with the settings pointing both where
    nothing answers, the files arrive only if the assets use the resources."""
    client, bucket = s3_bucket
    s3 = s3_sections(NOWHERE_URL, bucket)
    ftp = ftp_sections(sftp_server)["smartcrop_ftp_config"]
    pipeline.configure(
        aws_config=s3["aws_config"],
        smartcrop_service={
            **pipeline.config["smartcrop_service"],
            "storage": {
                **pipeline.config["smartcrop_service"].get("storage", {}),
                "endpoint_url": NOWHERE_URL,
            },
        },
        smartcrop_filewatcher_batchjob={
            **pipeline.config.get("smartcrop_filewatcher_batchjob", {}),
            "targets": ["s3", "sftp"],
            "s3_prefix": "manifests/",
        },
        smartcrop_ftp_config={
            **ftp,
            "host": NOWHERE,
            "ports": {"output": 9, "audit": 9},
        },
    )
    pipeline.resources["s3"] = S3ClientResource(endpoint_url=s3_server)
    pipeline.resources["sftp"] = RedirectingDelivery(
        host=sftp_server.host, port=sftp_server.port
    )
    add_image(pipeline.db_url, program_id="SH1")
    defs = pipeline.definitions()

    shipped = defs.resolve_job_def("nightly_manifest_job").execute_in_process(
        instance=pipeline.instance
    )
    dumped = defs.resolve_job_def("dump_snapshots_job").execute_in_process(
        instance=pipeline.instance
    )

    assert shipped.success and dumped.success
    [name] = [
        p.name for p in sftp_server.path("/outbound").iterdir() if "Manifest" in p.name
    ]
    listed = client.list_objects_v2(Bucket=bucket, Prefix="manifests/")
    assert [o["Key"] for o in listed["Contents"]] == [f"manifests/{name}"]
    assert any(
        p.name.startswith("SmartCrop_Audit")
        for p in sftp_server.path("/audit").iterdir()
    )
