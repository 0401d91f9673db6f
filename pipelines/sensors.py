"""Sensors: one per kind of source, each keeping a cursor so a tick never hands out a
file it has handed out before. The rules of what is new live in ``smartcrop.watch``."""

# No `from __future__ import annotations` here: Dagster reads the annotations of
# asset and sensor functions at run time to find their config and resources.
import json
import logging
from datetime import datetime

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    sensor,
)

from assets.ingestion import manifest_partitions
from pipelines.jobs import ingest_manifest_job
from resources import SettingsResource
from smartcrop import acquire, watch
from smartcrop.transfer import TransferError
from smartcrop.transfer import s3 as s3_transfer
from smartcrop.transfer import sftp as sftp_transfer

log = logging.getLogger(__name__)


def run_request_for(locator: acquire.Locator) -> RunRequest:
    key = acquire.partition_key(locator.filename, acquire.delivery_identity(locator))
    return RunRequest(
        partition_key=key,
        # The run key makes Dagster itself refuse a second run for the same delivery.
        run_key=key,
        run_config={
            "ops": {
                "manifest_file": {
                    "config": {
                        "source": locator.source,
                        "location": locator.location,
                        "modified": (
                            locator.modified.isoformat() if locator.modified else ""
                        ),
                        "size": locator.size if locator.size is not None else -1,
                    }
                }
            }
        },
        tags={"smartcrop/source": locator.source, "smartcrop/file": locator.filename},
    )


def _result(found: list[acquire.Locator], cursor: object) -> SensorResult:
    requests = [run_request_for(locator) for locator in found]
    keys = [request.partition_key for request in requests if request.partition_key]
    return SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=(
            [manifest_partitions.build_add_request(keys)] if keys else []
        ),
        cursor=json.dumps(cursor, sort_keys=True),
        skip_reason=None if requests else "no new manifest files",
    )


def _cursor(context: SensorEvaluationContext) -> dict:
    try:
        return json.loads(context.cursor) if context.cursor else {}
    except ValueError:
        # A cursor from an older format: start afresh; the checksum record still
        # keeps a file already ingested from being ingested twice.
        return {}


def build_sensors(interval: int) -> list:
    @sensor(
        job=ingest_manifest_job,
        minimum_interval_seconds=interval,
        default_status=DefaultSensorStatus.RUNNING,
        description="Manifests dropped in the local staging folder "
        "(processing_middleware.local_filesystem.root_path).",
    )
    def local_staging_sensor(
        context: SensorEvaluationContext, settings: SettingsResource
    ) -> SensorResult:
        cfg = settings.load()
        found, present = watch.scan_local(cfg.staging_root, _cursor(context))
        return _result(found, present)

    @sensor(
        job=ingest_manifest_job,
        minimum_interval_seconds=interval,
        default_status=DefaultSensorStatus.RUNNING,
        description="Manifests under each filewatcher.s3_sources bucket/prefix.",
    )
    def s3_manifest_sensor(
        context: SensorEvaluationContext, settings: SettingsResource
    ) -> SensorResult:
        cfg = settings.load()
        cursor = _cursor(context)
        found: list[acquire.Locator] = []
        for source in cfg.filewatcher.s3_sources:
            name = f"{source.bucket}/{source.prefix}"
            last = cursor.get(name, {})
            try:
                listing = s3_transfer.list_objects(
                    acquire.s3_client_for(cfg, source),
                    source.bucket,
                    source.prefix,
                    since_key=last.get("key"),
                    since_last_modified=(
                        datetime.fromisoformat(last["modified"])
                        if last.get("modified")
                        else None
                    ),
                )
            except TransferError as exc:
                # One source being down must not stop the others; its cursor stays.
                context.log.warning(f"S3 source {name} not listed: {exc}")
                continue
            if listing:
                newest = listing[-1]
                cursor[name] = {
                    "key": newest.path,
                    "modified": newest.modified.isoformat(),
                }
            found.extend(watch.s3_locators(listing, source.bucket))
        return _result(found, cursor)

    @sensor(
        job=ingest_manifest_job,
        minimum_interval_seconds=interval,
        default_status=DefaultSensorStatus.RUNNING,
        description="Manifests in each filewatcher.sftp_sources folder.",
    )
    def sftp_manifest_sensor(
        context: SensorEvaluationContext, settings: SettingsResource
    ) -> SensorResult:
        cfg = settings.load()
        cursor = _cursor(context)
        found: list[acquire.Locator] = []
        for source in cfg.filewatcher.sftp_sources:
            name = f"{source.host}:{source.port}{source.directory}"
            try:
                listing = sftp_transfer.list_remote_files(
                    acquire.sftp_endpoint_for(source), source.directory
                )
            except TransferError as exc:
                context.log.warning(f"SFTP source {name} not listed: {exc}")
                continue
            new, present = watch.new_sftp_files(
                listing, cursor.get(name, {}), source.host, source.port
            )
            cursor[name] = present
            found.extend(new)
        return _result(found, cursor)

    return [local_staging_sensor, s3_manifest_sensor, sftp_manifest_sensor]
