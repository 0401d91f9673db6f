"""Sensors: one per kind of source, each keeping a cursor so a tick never hands out a
file it has handed out before. The rules of what is new live in
``smartcrop.ingestion.watch``; the S3 and SFTP clients come from the resources.

A tick that finds one file starts one run for it; a tick that finds several starts
one run per batch of up to ``MAX_FILES_PER_RUN`` (a range of partitions run as one
run): a run costs seconds of process start-up where a small file's steps cost a
fraction of one, so a burst of 200 files is ten runs, not 200.
"""

# No `from __future__ import annotations` here: Dagster reads the annotations of
# asset and sensor functions at run time to find their config and resources.
import json
import logging
from collections.abc import Callable
from typing import Any

from dagster import (
    DagsterInstance,
    DefaultSensorStatus,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    sensor,
)

from assets.partitions import MANIFEST_PARTITIONS, manifest_partitions
from pipelines.jobs import ingest_manifest_job
from pipelines.tags import PARTITION_RANGE_END_TAG, PARTITION_RANGE_START_TAG
from resources import S3ClientResource, SettingsResource, SftpResource
from smartcrop.ingestion import acquire, watch
from smartcrop.ingestion.run_config import locator_config

log = logging.getLogger(__name__)


# Big enough that a burst is a handful of runs, small enough that one run's retry
# (a database restart) redoes little and two runs share a burst.
MAX_FILES_PER_RUN = 20


def file_key(locator: acquire.Locator) -> str:
    return acquire.partition_key(locator.filename, acquire.delivery_identity(locator))


def run_request_for(locator: acquire.Locator, key: str | None = None) -> RunRequest:
    """One file, one run (``key``: its partition, by default the delivery's)."""
    key = file_key(locator) if key is None else key
    return RunRequest(
        partition_key=key,
        # The run key makes Dagster itself refuse a second run for the same delivery.
        run_key=key,
        run_config={"ops": {"manifest_file": {"config": locator_config(locator)}}},
        tags={"smartcrop/source": locator.source, "smartcrop/file": locator.filename},
    )


def batch_request_for(keys: list[str], files: dict[str, acquire.Locator]) -> RunRequest:
    """Several files, one run over the range of their partitions."""
    first, last = files[keys[0]], keys[-1]
    return RunRequest(
        run_key=f"{keys[0]}..{last}",
        run_config={
            "ops": {
                "manifest_file": {
                    "config": {
                        "files": [
                            {"partition_key": key, **locator_config(files[key])}
                            for key in keys
                        ]
                    }
                }
            }
        },
        tags={
            PARTITION_RANGE_START_TAG: keys[0],
            PARTITION_RANGE_END_TAG: last,
            "smartcrop/source": first.source,
            "smartcrop/file": f"{first.filename} and {len(keys) - 1} more",
            "smartcrop/files": str(len(keys)),
        },
    )


def run_requests_for(
    instance: DagsterInstance,
    found: list[acquire.Locator],
    key_of: Callable[[acquire.Locator], str] = file_key,
) -> tuple[list[str], list[RunRequest]]:
    """The partitions of the files found and their runs, batched.

    A batch must be a range of partitions holding exactly its files, so the
    partitions are added here and the ranges cut from the order the instance stores
    them in: a file whose partition already existed, or a partition another sensor
    added in between, starts a new range.
    """
    files: dict[str, acquire.Locator] = {}
    for locator in found:
        files.setdefault(key_of(locator), locator)
    if not files:
        return [], []
    if len(files) == 1:
        [(only, locator)] = files.items()
        return [only], [run_request_for(locator, only)]
    name = MANIFEST_PARTITIONS
    instance.add_dynamic_partitions(name, list(files))
    position = {
        key: n
        for n, key in enumerate(instance.get_dynamic_partitions(name))
        if key in files
    }
    batches: list[list[str]] = []
    for key in sorted(files, key=position.__getitem__):
        last = batches[-1] if batches else None
        if (
            last is not None
            and len(last) < MAX_FILES_PER_RUN
            and position[key] == position[last[-1]] + 1
        ):
            last.append(key)
        else:
            batches.append([key])
    return list(files), [
        (
            run_request_for(files[batch[0]], batch[0])
            if len(batch) == 1
            else batch_request_for(batch, files)
        )
        for batch in batches
    ]


def _result(
    context: SensorEvaluationContext, found: list[acquire.Locator], cursor: object
) -> SensorResult:
    keys, requests = run_requests_for(context.instance, found)
    return SensorResult(
        run_requests=requests,
        # Already added for a batch; asked for again so the tick shows them.
        dynamic_partitions_requests=(
            [manifest_partitions.build_add_request(keys)] if keys else []
        ),
        cursor=json.dumps(cursor, sort_keys=True),
        skip_reason=None if requests else "no new manifest files",
    )


def _cursor(context: SensorEvaluationContext) -> dict[str, Any]:
    try:
        return json.loads(context.cursor) if context.cursor else {}
    except ValueError:
        # A cursor from an older format: start afresh; the checksum record still
        # keeps a file already ingested from being ingested twice.
        return {}


def _remote(context: SensorEvaluationContext, listing: watch.Listing) -> SensorResult:
    # One source being down must not stop the others; its cursor stays as it was.
    for error in listing.errors:
        context.log.warning(error)
    return _result(context, listing.found, listing.cursor)


def dagster_min_interval(interval: int) -> int:
    """The ``minimum_interval_seconds`` that makes a sensor tick every ``interval``
    seconds (rounded up to the daemon's loop of 5 s), not every interval + 5 s.

    Dagster's sensor daemon wakes every 5 s and ticks a sensor when the time since
    its last tick *started* is at least the minimum interval; the loop starts a few
    milliseconds before the tick records its start, so at exactly the interval the
    elapsed time is just under it and the tick waits for the next loop. Measured with
    an interval of 5: ticks 5 s apart or 10 s apart, by chance; with the minimum one
    second lower, every 5 s (bench/results/file_latency.md: the sensor's wait).
    """
    return max(1, interval - 1)


def build_sensors(interval: int) -> list[SensorDefinition]:
    minimum_interval = dagster_min_interval(interval)

    @sensor(
        job=ingest_manifest_job,
        minimum_interval_seconds=minimum_interval,
        default_status=DefaultSensorStatus.RUNNING,
        description="Manifests dropped in the local staging folder "
        "(the processing_middleware.middleware entry PROCESSING_MIDDLEWARE selects, "
        "else processing_middleware.local_filesystem.root_path).",
    )
    def local_staging_sensor(
        context: SensorEvaluationContext, settings: SettingsResource
    ) -> SensorResult:
        cfg = settings.load()
        found, present = watch.scan_local(cfg.staging_root, _cursor(context))
        return _result(context, found, present)

    @sensor(
        job=ingest_manifest_job,
        minimum_interval_seconds=minimum_interval,
        default_status=DefaultSensorStatus.RUNNING,
        description="Manifests under each filewatcher.s3_sources bucket/prefix.",
    )
    def s3_manifest_sensor(
        context: SensorEvaluationContext,
        settings: SettingsResource,
        s3: S3ClientResource,
    ) -> SensorResult:
        listing = watch.list_s3_sources(
            settings.load(), _cursor(context), s3.make_client
        )
        return _remote(context, listing)

    @sensor(
        job=ingest_manifest_job,
        minimum_interval_seconds=minimum_interval,
        default_status=DefaultSensorStatus.RUNNING,
        description="Manifests in each filewatcher.sftp_sources folder.",
    )
    def sftp_manifest_sensor(
        context: SensorEvaluationContext,
        settings: SettingsResource,
        sftp: SftpResource,
    ) -> SensorResult:
        listing = watch.list_sftp_sources(
            settings.load(), _cursor(context), sftp.endpoint_for
        )
        return _remote(context, listing)

    return [local_staging_sensor, s3_manifest_sensor, sftp_manifest_sensor]
