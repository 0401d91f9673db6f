"""Running the code location's jobs on demand: the file-pipeline endpoints (4.9).

Each function runs the same job the schedules and sensors start, in this process
(``execute_in_process``) on the given Dagster instance, so the run, its logs and its
lineage show in the UI like any other; it returns once the run has finished, with
the contract's answer plus the Dagster run id(s).
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, ParamSpec, TypeVar

from dagster import DagsterInstance

from assets.ingestion import manifest_partitions
from pipelines.definitions import build_definitions
from pipelines.runner import ingest_paths
from pipelines.sensors import run_request_for
from resources import SettingsResource
from smartcrop import acquire, watch
from smartcrop.transfer import TransferError
from smartcrop.transfer import s3 as s3_transfer
from smartcrop.transfer import sftp as sftp_transfer

log = logging.getLogger(__name__)

API_TAGS = {"smartcrop/trigger": "api"}

P = ParamSpec("P")
R = TypeVar("R")

# One in-process run at a time per process. Two ``execute_in_process`` calls in two
# threads of one API process deadlock it for good (a run's start reconfigures
# logging while the other run's event handler holds a handler lock: a lock-order
# inversion on logging's locks, after which every request of the process hangs,
# /health included). A second call waits for the first instead; runs are short.
_RUN_LOCK = threading.Lock()


def one_run_at_a_time(func: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with _RUN_LOCK:
            return func(*args, **kwargs)

    return wrapper


def _materialization(result: Any, node: str) -> dict[str, Any]:
    events = result.asset_materializations_for_node(node)
    if not events:
        return {}
    return {key: value.value for key, value in events[-1].metadata.items()}


@one_run_at_a_time
def run_manifest(
    instance: DagsterInstance, database_url: str, config_path: str | None
) -> dict[str, Any]:
    """``nightly_manifest_job`` now: success + file, no_rows, or failed."""
    job = build_definitions(database_url, config_path).resolve_job_def(
        "nightly_manifest_job"
    )
    result = job.execute_in_process(
        instance=instance, raise_on_error=False, tags=API_TAGS
    )
    if not result.success:
        return {"status": "failed", "run_id": result.run_id}
    metadata = _materialization(result, "nightly_manifest")
    if metadata.get("status") == "success":
        return {"status": "success", "file": metadata["file"], "run_id": result.run_id}
    return {"status": "no_rows", "run_id": result.run_id}


@one_run_at_a_time
def run_dumps(
    instance: DagsterInstance,
    database_url: str,
    config_path: str | None,
    days: int,
) -> dict[str, Any]:
    """``dump_snapshots_job`` for the last ``days`` days: success + files, or failed."""
    job = build_definitions(database_url, config_path).resolve_job_def(
        "dump_snapshots_job"
    )
    result = job.execute_in_process(
        instance=instance,
        run_config={"ops": {"dump_snapshots": {"config": {"date_range": days}}}},
        raise_on_error=False,
        tags=API_TAGS,
    )
    if not result.success:
        return {"status": "failed", "run_id": result.run_id}
    files = _materialization(result, "dump_snapshots").get("files", [])
    return {"status": "success", "files": list(files), "run_id": result.run_id}


@one_run_at_a_time
def ingest_files(
    instance: DagsterInstance,
    database_url: str,
    config_path: str | None,
    files: list[Path],
) -> dict[str, Any]:
    """Ingest local files as the API's (copied, never moved), one run per file.

    ``run_ids`` lists the runs in file-name order; ``run_id`` is the last of them
    (None when no file needed a run: none given, or all already ingested).
    """
    summary = ingest_paths(
        files,
        instance=instance,
        database_url=database_url,
        config_path=config_path,
        source="api",
    )
    run_ids = [f["run_id"] for f in summary["files"].values() if f.get("run_id")]
    failed = any(f["status"] == "failed" for f in summary["files"].values())
    return {
        "status": "failed" if failed else "success",
        "run_id": run_ids[-1] if run_ids else None,
        "run_ids": run_ids,
        "files": summary["files"],
        "total_new_items": summary["total_new_items"],
    }


def _remote_files(
    settings: Any, kind: Literal["s3", "sftp"]
) -> tuple[list[acquire.Locator], list[str]]:
    """Every manifest at the configured sources of one kind, and listing errors."""
    found: list[acquire.Locator] = []
    errors: list[str] = []
    if kind == "s3":
        for source in settings.filewatcher.s3_sources:
            try:
                listing = s3_transfer.list_objects(
                    acquire.s3_client_for(settings, source),
                    source.bucket,
                    source.prefix,
                )
            except TransferError as exc:
                errors.append(str(exc))
                continue
            found.extend(watch.s3_locators(listing, source.bucket))
    else:
        for source in settings.filewatcher.sftp_sources:
            try:
                listing = sftp_transfer.list_remote_files(
                    acquire.sftp_endpoint_for(source), source.directory
                )
            except TransferError as exc:
                errors.append(str(exc))
                continue
            new, _ = watch.new_sftp_files(listing, {}, source.host, source.port)
            found.extend(new)
    return found, errors


@one_run_at_a_time
def download_new(
    instance: DagsterInstance,
    database_url: str,
    config_path: str | None,
    kind: Literal["s3", "sftp"],
) -> dict[str, Any]:
    """One pass over the configured S3 or SFTP sources.

    A file is new when its delivery's partition key (the sensors' key: name, place,
    time and size) is not yet a partition on the instance; each new file is one run
    of ``ingest_manifest``, started as its sensor would. ``success`` when at least one
    new file came, ``no_files`` when none did, ``failed`` when no source could be
    listed at all (``errors`` says why; sources that answered are still handled).
    """
    settings = SettingsResource(config_path=config_path).load()
    locators, errors = _remote_files(settings, kind)
    known = set(instance.get_dynamic_partitions(manifest_partitions.name))
    requests = [run_request_for(locator) for locator in locators]
    new = [r for r in requests if r.partition_key not in known]
    job = build_definitions(database_url, config_path).resolve_job_def(
        "ingest_manifest"
    )
    run_ids: list[str] = []
    files: dict[str, dict[str, Any]] = {}
    for request in new:
        assert request.partition_key is not None
        instance.add_dynamic_partitions(
            manifest_partitions.name, [request.partition_key]
        )
        result = job.execute_in_process(
            partition_key=request.partition_key,
            run_config=request.run_config,
            instance=instance,
            raise_on_error=False,
            tags={**request.tags, **API_TAGS},
        )
        run_ids.append(result.run_id)
        files[request.tags["smartcrop/file"]] = {
            "status": "ingested" if result.success else "failed",
            "run_id": result.run_id,
        }
    if run_ids:
        status = "success"
    elif errors and len(errors) >= _source_count(settings, kind):
        status = "failed"
    else:
        status = "no_files"
    answer: dict[str, Any] = {
        "status": status,
        "run_id": run_ids[-1] if run_ids else None,
        "run_ids": run_ids,
        "files": files,
    }
    if errors:
        answer["errors"] = errors
    return answer


def _source_count(settings: Any, kind: str) -> int:
    sources = (
        settings.filewatcher.s3_sources
        if kind == "s3"
        else settings.filewatcher.sftp_sources
    )
    return len(sources)
