"""A real Dagster instance and the project's definitions, pointed at a test database.

``pipeline`` gives a settings file (folders under tmp_path, the test's database), the
definitions built from it, a Dagster instance on a temporary DAGSTER_HOME, and helpers
to tick a sensor with a real context and to execute the runs it asks for.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from dagster import (
    DagsterInstance,
    Definitions,
    build_sensor_context,
    instance_for_test,
)

from assets.ingestion import manifest_partitions
from pipelines.definitions import build_definitions
from smartcrop.ingestion.acquire import Locator
from smartcrop.settings import Settings, load_settings
from tests.support.s3_server import ACCESS_KEY, SECRET_KEY

# A port with no listener (9, discard): what tests/config.test.yml names too.
NO_WEBSERVER = "http://127.0.0.1:9/graphql"


@dataclass
class Pipeline:
    tmp: Path
    db_url: str
    instance: DagsterInstance
    config: dict[str, Any] = field(default_factory=dict)
    cursors: dict[str, str | None] = field(default_factory=dict)
    # Where the settings are written: the test's own file, or the one a Dagster
    # webserver's code location reads (tests/support/dagster_web.py).
    config_file: Path | None = None
    # Called after each configure(): an app built from these settings takes the new.
    on_configure: list[Callable[[], None]] = field(default_factory=list)
    # Resources swapped in by key (build_definitions' ``resources``): an S3 or SFTP
    # client of the test's own, the settings unchanged.
    resources: dict[str, Any] = field(default_factory=dict)

    @property
    def config_path(self) -> Path:
        return self.config_file or self.tmp / "smartcrop.yml"

    def configure(self, **sections: Any) -> None:
        """Merge sections into the settings file (before building definitions)."""
        for key, value in sections.items():
            if isinstance(value, dict) and isinstance(self.config.get(key), dict):
                self.config[key] = {**self.config[key], **value}
            else:
                self.config[key] = value
        self.config_path.write_text(yaml.safe_dump(self.config))
        for listener in self.on_configure:
            listener()

    def watch_s3(
        self,
        bucket: str,
        endpoint_url: str,
        prefix: str | None = "incoming/",
        region: str | None = None,
    ) -> None:
        """One S3 source, the bucket's ``prefix`` (None: the whole bucket) at
        ``endpoint_url``, with the moto server's keys."""
        source: dict[str, Any] = {"bucket": bucket, "endpoint_url": endpoint_url}
        if prefix is not None:
            source["prefix"] = prefix
        if region is not None:
            source["region"] = region
        self.configure(
            aws_config={"access_key_id": ACCESS_KEY, "secret_access_key": SECRET_KEY},
            filewatcher={"s3_sources": [source]},
        )

    @property
    def settings(self) -> Settings:
        return load_settings(**_as_init(self.config))

    @property
    def staging(self) -> Path:
        return Path(
            self.config["processing_middleware"]["local_filesystem"]["root_path"]
        )

    @property
    def quarantine(self) -> Path:
        return Path(
            self.config["processing_middleware"]["local_filesystem"]["quarantine_path"]
        )

    def definitions(self) -> Definitions:
        return build_definitions(
            self.db_url, str(self.config_path), resources=self.resources
        )

    def tick(self, sensor_name: str) -> Any:
        """One evaluation of a sensor with a real context and the stored cursor."""
        defs = self.definitions()
        sensor = defs.resolve_sensor_def(sensor_name)
        context = build_sensor_context(
            instance=self.instance,
            cursor=self.cursors.get(sensor_name),
            sensor_name=sensor_name,
            resources=defs.resources,  # as the daemon gives them
        )
        result = sensor(context)
        self.cursors[sensor_name] = result.cursor
        return result

    def run(self, result: Any) -> list[Any]:
        """Apply a sensor result's partitions and execute its run requests in turn."""
        for request in result.dynamic_partitions_requests or []:
            self.instance.add_dynamic_partitions(
                request.partitions_def_name, list(request.partition_keys)
            )
        job = self.definitions().resolve_job_def("ingest_manifest")
        outcomes = []
        for request in result.run_requests or []:
            outcomes.append(
                job.execute_in_process(
                    partition_key=request.partition_key,
                    run_config=request.run_config,
                    instance=self.instance,
                    raise_on_error=False,
                    tags=request.tags,
                )
            )
        return outcomes

    def rerun(self, partition_key: str, run_config: dict | None = None) -> Any:
        job = self.definitions().resolve_job_def("ingest_manifest")
        return job.execute_in_process(
            partition_key=partition_key,
            run_config=run_config or {},
            instance=self.instance,
            raise_on_error=False,
        )

    def partitions(self) -> list[str]:
        return list(self.instance.get_dynamic_partitions(manifest_partitions.name))


def _as_init(config: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(config))


def configure_for_test(p: Pipeline) -> None:
    """The test's database and folders under its tmp_path."""
    tmp_path = p.tmp
    p.configure(
        database={"url": p.db_url},
        processing_middleware={
            "local_filesystem": {
                "root_path": str(tmp_path / "staging"),
                "quarantine_path": str(tmp_path / "quarantine"),
                "work_dir": str(tmp_path / "work"),
            }
        },
        smartcrop_service={
            "storage": {"local_root": str(tmp_path / "renditions")},
            "auth": {"secret_file": str(tmp_path / "jwt_secret")},
            # No Dagster webserver unless the test starts one (dagster_web.py): never
            # a developer's on the default port.
            "dagster": {"graphql_url": NO_WEBSERVER},
        },
        smartcrop_filewatcher_batchjob={"output_dir": str(tmp_path / "outbound")},
        smartcrop_dumpdata={"local_path": str(tmp_path / "dumps")},
    )
    (tmp_path / "staging").mkdir(exist_ok=True)


@pytest.fixture
def pipeline(db_url: str, tmp_path: Path) -> Iterator[Pipeline]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    with instance_for_test(temp_dir=str(home)) as instance:
        p = Pipeline(tmp=tmp_path, db_url=db_url, instance=instance)
        configure_for_test(p)
        yield p


def handed_out(result: Any) -> list[tuple[str, str]]:
    """(partition key, file name) of every file a sensor tick handed out, in order:
    a run of one file names it in its tags, a batch run in its config."""
    files: list[tuple[str, str]] = []
    for request in result.run_requests or []:
        if request.partition_key is not None:
            files.append((request.partition_key, request.tags["smartcrop/file"]))
            continue
        for entry in request.run_config["ops"]["manifest_file"]["config"]["files"]:
            locator = Locator(entry["source"], entry["location"])
            files.append((entry["partition_key"], locator.filename))
    return files


def files_of(result: Any) -> list[str]:
    return [name for _, name in handed_out(result)]


def keys_of(result: Any) -> list[str]:
    return [key for key, _ in handed_out(result)]
