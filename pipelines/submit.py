"""The file-pipeline endpoints' runs (contract 4.9): submitted to Dagster, not run here.

Each endpoint submits the same job the schedules and sensors start, through the
webserver's GraphQL API (``DagsterGraphQLClient.submit_job_execution`` at
``smartcrop_service.dagster.graphql_url``), so the instance's run queue, its limits
(one manifest export at a time) and its run launcher (a process, a container or a pod)
apply to API-started runs exactly as to the others. The answers are read back from
the instance's run storage: the API has the same DAGSTER_HOME as the daemon.

Every run an API request starts carries the request's id, the endpoint it answers
for, and what the request decided without a run (files already ingested, sources that
could not be listed), so ``GET /filewatcher/runs/{run_id}`` can give, later, the body
the endpoint would have given.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter
from dagster._core.storage.dagster_run import DagsterRun
from dagster._core.storage.tags import PARTITION_NAME_TAG
from dagster_graphql import DagsterGraphQLClient, DagsterGraphQLClientError
from gql.transport.requests import RequestsHTTPTransport

from assets.ingestion import MANIFEST_PARTITIONS
from pipelines.sensors import run_requests_for
from smartcrop.db import libpq_url
from smartcrop.errors import ServiceUnavailable
from smartcrop.ingestion import acquire, landing, watch
from smartcrop.ingestion.given_files import plan_files
from smartcrop.settings import DagsterConfig, Settings

log = logging.getLogger(__name__)

REQUEST_TAG = "smartcrop/request"
ENDPOINT_TAG = "smartcrop/endpoint"
NOTES_TAG = "smartcrop/request_notes"
TRIGGER_TAGS = {"smartcrop/trigger": "api"}

MANIFEST, DUMPS, LOCAL, DOWNLOAD = "manifest", "dumps", "run-local", "download"
_FINISHED = {
    DagsterRunStatus.SUCCESS,
    DagsterRunStatus.FAILURE,
    DagsterRunStatus.CANCELED,
}
_POLL_SECONDS = 0.25


@dataclass
class Started:
    """The runs one request submitted (none when nothing needed one)."""

    endpoint: str
    run_ids: list[str] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)


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
    listing = watch.list_sources(settings, kind)
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
                tags[PARTITION_NAME_TAG] = request.partition_key
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


def _manifest_file_config(run_config: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest_file op's config in an ingestion run's (see pipelines.sensors): one
    file's locator, or ``files``, a list of them each with its partition key."""
    config: dict[str, Any] = run_config["ops"]["manifest_file"]["config"]
    return config


def _partitions_of(single: str | None, run_config: Mapping[str, Any]) -> list[str]:
    if single is not None:
        return [single]
    config = _manifest_file_config(run_config)
    return [entry["partition_key"] for entry in config.get("files", [])]


# -- answering -----------------------------------------------------------------------


def wait_and_answer(
    dagster: Dagster, database_url: str, started: Started
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body): the contract's body once every run has finished, or 202
    ``running`` when one still runs after ``wait_seconds``."""
    deadline = time.monotonic() + dagster.config.wait_seconds
    runs = _runs(dagster.instance, started.run_ids)
    while not all(run.status in _FINISHED for run in runs):
        if time.monotonic() >= deadline:
            return 202, _running(started.run_ids)
        time.sleep(_POLL_SECONDS)
        runs = _runs(dagster.instance, started.run_ids)
    return 200, _body(dagster.instance, database_url, started, runs)


def answer_for_run(
    instance: DagsterInstance, database_url: str, run_id: str
) -> tuple[int, dict[str, Any]] | None:
    """The answer for a run and the runs its request started with it: 202 while one
    runs, then the endpoint's body; None when the instance has no such run."""
    run = instance.get_run_by_id(run_id)
    if run is None:
        return None
    request = run.tags.get(REQUEST_TAG)
    endpoint = run.tags.get(ENDPOINT_TAG)
    if request is None or endpoint is None:
        # Not started by the API (a sensor's or a schedule's run): its status alone.
        status = run.status.value
        if run.status not in _FINISHED:
            return 202, {
                "status": "running",
                "run_id": run_id,
                "dagster_status": status,
            }
        body = {
            "status": _plain_status(run),
            "run_id": run_id,
            "dagster_status": status,
        }
        if run.status != DagsterRunStatus.SUCCESS:
            body["error"] = failure_message(instance, run)
        return 200, body
    records = instance.get_run_records(RunsFilter(tags={REQUEST_TAG: request}))
    runs = [
        record.dagster_run
        for record in sorted(records, key=lambda record: record.create_timestamp)
    ]
    run_ids = [r.run_id for r in runs]
    if not all(r.status in _FINISHED for r in runs):
        return 202, _running(run_ids)
    notes = json.loads(run.tags.get(NOTES_TAG, "{}"))
    return 200, _body(instance, database_url, Started(endpoint, run_ids, notes), runs)


def _runs(instance: DagsterInstance, run_ids: Iterable[str]) -> list[DagsterRun]:
    runs = []
    for run_id in run_ids:
        run = instance.get_run_by_id(run_id)
        if run is None:
            # The webserver stores a run before it answers with its id: one not
            # found here means the API reads another instance than the webserver's.
            raise ServiceUnavailable(
                f"run {run_id} was submitted but is not on this API's Dagster "
                "instance: give the API the webserver's DAGSTER_HOME"
            )
        runs.append(run)
    return runs


def _running(run_ids: list[str]) -> dict[str, Any]:
    return {"status": "running", "run_id": run_ids[-1], "run_ids": run_ids}


def _plain_status(run: DagsterRun) -> str:
    return "success" if run.status == DagsterRunStatus.SUCCESS else "failed"


def _body(
    instance: DagsterInstance,
    database_url: str,
    started: Started,
    runs: list[DagsterRun],
) -> dict[str, Any]:
    if started.endpoint in (MANIFEST, DUMPS):
        [run] = runs
        if run.status != DagsterRunStatus.SUCCESS:
            return {
                "status": "failed",
                "run_id": run.run_id,
                "error": failure_message(instance, run),
            }
        if started.endpoint == DUMPS:
            files = _materialized(instance, run.run_id, "dump_snapshots").get("files")
            return {
                "status": "success",
                "files": list(files or []),
                "run_id": run.run_id,
            }
        metadata = _materialized(instance, run.run_id, "nightly_manifest")
        if metadata.get("status") == "success":
            return {"status": "success", "file": metadata["file"], "run_id": run.run_id}
        return {"status": "no_rows", "run_id": run.run_id}
    return _ingestion_body(instance, database_url, started, runs)


# What an ingestion call answers when no file needed a run: run-local's contract knows
# only success and failed; the downloads say that no new file came.
_NOTHING_NEW = {LOCAL: "success", DOWNLOAD: "no_files"}


def ingestion_status(
    endpoint: str,
    outcomes: Iterable[Mapping[str, Any]],
    run_errors: Sequence[str],
    *,
    ran: bool,
    listing_failed: bool = False,
) -> str:
    """The one rule of ``run-local``, ``download-s3`` and ``download-sftp``.

    ``failed`` when a run failed (``run_errors``), any file's outcome is failed (a bad
    file in a batch fails alone while its run succeeds), or no source could be
    listed; else ``success`` when files were run, else the endpoint's answer for
    nothing new. ``outcomes`` must hold every file of the call, not one per name:
    two deliveries may share a name, and a failed one must not be hidden.
    """
    if (
        run_errors
        or listing_failed
        or any(outcome["status"] == "failed" for outcome in outcomes)
    ):
        return "failed"
    return "success" if ran else _NOTHING_NEW[endpoint]


def _ingestion_body(
    instance: DagsterInstance,
    database_url: str,
    started: Started,
    runs: list[DagsterRun],
) -> dict[str, Any]:
    # (name, where, outcome) of every file: the ones decided without a run, then
    # each run's, in order.
    outcomes: list[tuple[str, str, dict[str, Any]]] = [
        (name, name, outcome)
        for name, outcome in started.notes.get("files", {}).items()
    ]
    errors: list[str] = []
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        for run in runs:
            ok = run.status == DagsterRunStatus.SUCCESS
            if not ok:
                errors.append(failure_message(instance, run))
            for key, locator in _files_of(run):
                outcome = {**landing.file_outcome(conn, key, ok), "run_id": run.run_id}
                where = acquire.readable(locator.location)
                outcomes.append((locator.filename, where, outcome))
    run_ids = [run.run_id for run in runs]
    status = ingestion_status(
        started.endpoint,
        [outcome for _, _, outcome in outcomes],
        errors,
        ran=bool(runs),
        listing_failed=bool(started.notes.get("all_sources_failed")),
    )
    # Keyed by name, as the contract shows them; files of one call sharing a name
    # (the same name in two S3 folders or SFTP sources) by where each came from, so
    # that none hides another's outcome.
    names = Counter(name for name, _, _ in outcomes)
    files = {
        name if names[name] == 1 else where: outcome
        for name, where, outcome in outcomes
    }
    body: dict[str, Any] = {
        "status": status,
        "run_id": run_ids[-1] if run_ids else None,
        "run_ids": run_ids,
        "files": files,
    }
    if started.endpoint == LOCAL:
        body["total_new_items"] = sum(f["ingested_items"] for f in files.values())
    listing_errors = started.notes.get("errors", [])
    if errors or listing_errors:
        body["errors"] = [*listing_errors, *errors]
    return body


def _files_of(run: DagsterRun) -> list[tuple[str, acquire.Locator]]:
    """(partition key, where the file was) of each file an ingestion run was given."""
    config = _manifest_file_config(run.run_config)
    if "files" in config:
        entries = [(e["partition_key"], e) for e in config["files"]]
    else:
        entries = [(run.tags[PARTITION_NAME_TAG], config)]
    return [
        (key, acquire.Locator(entry["source"], entry["location"]))
        for key, entry in entries
    ]


def _materialized(instance: DagsterInstance, run_id: str, asset: str) -> dict[str, Any]:
    records = instance.get_records_for_run(
        run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION
    ).records
    for record in reversed(records):
        event = record.event_log_entry.dagster_event
        if event is None or event.asset_key is None:
            continue
        if event.asset_key.to_user_string() == asset:
            materialization = event.step_materialization_data.materialization
            return {key: value.value for key, value in materialization.metadata.items()}
    return {}


def failure_message(instance: DagsterInstance, run: DagsterRun) -> str:
    """Why a run did not succeed, in Dagster's words: the first failed step's error
    (the innermost cause, the one our code raised), else the run's own message."""
    if run.status == DagsterRunStatus.CANCELED:
        return "the run was canceled"
    records = instance.get_records_for_run(
        run.run_id,
        of_type={DagsterEventType.STEP_FAILURE, DagsterEventType.RUN_FAILURE},
    ).records
    for record in records:
        event = record.event_log_entry.dagster_event
        if event is not None and event.is_step_failure:
            error = event.step_failure_data.error
            while error is not None and error.cause is not None:
                error = error.cause
            if error is not None:
                return error.message.strip()
    for record in records:
        event = record.event_log_entry.dagster_event
        if event is not None and event.message:
            return event.message
    return "the run failed; see the Dagster UI"
