"""The file-pipeline endpoints' runs (contract 4.9): submitted to Dagster, not run here.

Each endpoint submits the same job the schedules and sensors start, through the
webserver's GraphQL API (``DagsterGraphQLClient.submit_job_execution`` at
``smartcrop_service.dagster.graphql_url``), so the instance's run queue, its limits
(one manifest export at a time) and its run launcher (a process, a container or a pod)
apply to API-started runs exactly as to the others. The answers are read back from
the instance's run storage (``pipelines.answers``): the API has the same DAGSTER_HOME
as the daemon.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
import psycopg
from dagster import DagsterInstance
from dagster_graphql import DagsterGraphQLClient, DagsterGraphQLClientError
from gql.transport.requests import RequestsHTTPTransport

from assets.partitions import MANIFEST_PARTITIONS
from pipelines.answers import (
    DOWNLOAD,
    DUMPS,
    ENDPOINT_TAG,
    LOCAL,
    MANIFEST,
    NOTES_TAG,
    REQUEST_TAG,
    Started,
    answer_for_run,
    failure_message,
    ingestion_status,
    manifest_file_config,
    wait_and_answer,
)
from pipelines.sensors import run_requests_for
from pipelines.tags import PARTITION_TAG
from resources import build_resources
from smartcrop.db import libpq_url
from smartcrop.errors import ServiceUnavailable
from smartcrop.ingestion import acquire, watch
from smartcrop.ingestion.given_files import plan_files
from smartcrop.ingestion.run_config import given_locators
from smartcrop.settings import DagsterConfig, Settings

# The endpoints' answers are read back by pipelines.answers; named here too, as the
# API has always imported them from this module.
__all__ = [
    "DOWNLOAD",
    "DUMPS",
    "LOCAL",
    "MANIFEST",
    "Dagster",
    "Started",
    "answer_for_run",
    "failure_message",
    "ingestion_status",
    "start_download",
    "start_dumps",
    "start_local",
    "start_manifest",
    "wait_and_answer",
]

log = logging.getLogger(__name__)

TRIGGER_TAGS = {"smartcrop/trigger": "api"}


class Dagster:
    """The instance's runs, and the webserver that takes new ones."""

    def __init__(self, instance: DagsterInstance, config: DagsterConfig) -> None:
        self.instance = instance
        self.config = config
        self.request_id = uuid.uuid4().hex

    def ensure_reachable(self) -> None:
        """503 before anything is decided or started when the webserver is down."""
        try:
            response = httpx.post(
                self.config.graphql_url, json={"query": "{ version }"}, timeout=10
            )
            response.raise_for_status()
            response.json()["data"]["version"]
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise ServiceUnavailable(
                "Dagster's webserver cannot be reached at "
                f"{self.config.graphql_url}, so no run was started: start it "
                "(`smartcrop up` or `smartcrop dagster`) and try again"
            ) from exc

    def submit(
        self,
        endpoint: str,
        job: str,
        *,
        run_config: Mapping[str, Any] | None = None,
        tags: dict[str, str] | None = None,
        notes: dict[str, Any] | None = None,
    ) -> str:
        client = DagsterGraphQLClient(
            "dagster",  # unused: the transport holds the URL
            transport=RequestsHTTPTransport(url=self.config.graphql_url, timeout=60),
        )
        all_tags = {
            **(tags or {}),
            **TRIGGER_TAGS,
            REQUEST_TAG: self.request_id,
            ENDPOINT_TAG: endpoint,
        }
        if notes:
            all_tags[NOTES_TAG] = json.dumps(notes, sort_keys=True)
        try:
            return client.submit_job_execution(
                job,
                repository_location_name=self.config.code_location,
                run_config=run_config or {},
                tags=all_tags,
            )
        except DagsterGraphQLClientError as exc:
            raise ServiceUnavailable(
                f"Dagster did not take the {job} run: {exc}"
            ) from exc


# -- starting ------------------------------------------------------------------------


def start_manifest(dagster: Dagster) -> Started:
    dagster.ensure_reachable()
    return Started(MANIFEST, [dagster.submit(MANIFEST, "nightly_manifest_job")])


def start_dumps(dagster: Dagster, days: int) -> Started:
    dagster.ensure_reachable()
    config = {"ops": {"dump_snapshots": {"config": {"date_range": days}}}}
    run_id = dagster.submit(DUMPS, "dump_snapshots_job", run_config=config)
    return Started(DUMPS, [run_id])


def start_local(dagster: Dagster, database_url: str, files: list[Path]) -> Started:
    """The staging files that need a run (not yet ingested), batched as the sensors
    batch; the others answered at once (``skipped``, ``ignored``)."""
    dagster.ensure_reachable()
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        todo, decided = plan_files(conn, files, "api")
    keys = {given.locator.location: given.key for given in todo}
    notes = {"files": decided} if decided else {}
    started = Started(LOCAL, notes=notes)
    _submit_ingestion(
        dagster,
        started,
        [given.locator for given in todo],
        key_of=lambda locator: keys[locator.location],
    )
    return started


def start_download(dagster: Dagster, settings: Settings, kind: str) -> Started:
    """Every manifest at the configured sources of ``kind`` whose delivery is not yet
    a partition, batched into runs as the sensors batch them."""
    dagster.ensure_reachable()
    # The same S3 and SFTP clients as the sensors': the code location's resources.
    transfer = build_resources()
    listing = watch.list_sources(
        settings,
        kind,
        s3=transfer["s3"].make_client,
        sftp=transfer["sftp"].endpoint_for,
    )
    known = set(dagster.instance.get_dynamic_partitions(MANIFEST_PARTITIONS))
    new = [f for f in listing.found if _delivery_key(f) not in known]
    notes: dict[str, Any] = {}
    if listing.errors:
        notes["errors"] = listing.errors
    if listing.all_failed:
        notes["all_sources_failed"] = True
    started = Started(DOWNLOAD, notes=notes)
    _submit_ingestion(dagster, started, new, key_of=_delivery_key)
    return started


def _delivery_key(locator: acquire.Locator) -> str:
    return acquire.partition_key(locator.filename, acquire.delivery_identity(locator))


def _submit_ingestion(
    dagster: Dagster,
    started: Started,
    found: list[acquire.Locator],
    key_of: Callable[[acquire.Locator], str],
) -> None:
    instance = dagster.instance
    name = MANIFEST_PARTITIONS
    keys, requests = run_requests_for(instance, found, key_of)
    instance.add_dynamic_partitions(name, keys)
    submitted: set[str] = set()
    try:
        for request in requests:
            tags = dict(request.tags)
            if request.partition_key is not None:
                tags[PARTITION_TAG] = request.partition_key
            started.run_ids.append(
                dagster.submit(
                    started.endpoint,
                    "ingest_manifest",
                    run_config=request.run_config,
                    tags=tags,
                    notes=started.notes,
                )
            )
            submitted.update(_partitions_of(request.partition_key, request.run_config))
    except ServiceUnavailable:
        # Files not handed to a run must not look delivered: the next call (or the
        # sensor) picks them up again.
        for key in keys:
            if key not in submitted:
                instance.delete_dynamic_partition(name, key)
        raise


def _partitions_of(single: str | None, run_config: Mapping[str, Any]) -> list[str]:
    if single is not None:
        return [single]
    return list(given_locators(manifest_file_config(run_config), []))
