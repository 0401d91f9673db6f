"""The answers of the file-pipeline endpoints (contract 4.9), read back from Dagster's
instance once the runs that ``pipelines.submit`` started have finished.

Every run an API request starts carries the request's id, the endpoint it answers
for, and what the request decided without a run (files already ingested, sources that
could not be listed), so ``GET /filewatcher/runs/{run_id}`` can give, later, the body
the endpoint would have given.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import psycopg
from dagster import (
    DagsterEventType,
    DagsterInstance,
    DagsterRun,
    DagsterRunStatus,
    RunsFilter,
)

from pipelines.tags import PARTITION_TAG
from smartcrop.db import libpq_url
from smartcrop.errors import ServiceUnavailable
from smartcrop.ingestion import acquire, landing
from smartcrop.ingestion.run_config import given_locators

if TYPE_CHECKING:
    from pipelines.submit import Dagster

REQUEST_TAG = "smartcrop/request"
ENDPOINT_TAG = "smartcrop/endpoint"
NOTES_TAG = "smartcrop/request_notes"

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


def manifest_file_config(run_config: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest_file op's config in an ingestion run's (see pipelines.sensors): one
    file's locator, or ``files``, a list of them each with its partition key."""
    config: dict[str, Any] = run_config["ops"]["manifest_file"]["config"]
    return config


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
    config = manifest_file_config(run.run_config)
    keys = [] if "files" in config else [run.tags[PARTITION_TAG]]
    return list(given_locators(config, keys).items())


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
