"""The crop-suggestion job and the sensor that runs it after each ingested file.

Its own job rather than a fourth step of ``ingest_manifest``: fetching hundreds of
provider images takes minutes where landing a file takes seconds, and a slow or
unreachable image server must never hold up (or fail) the ingestion that operators
are waiting for. The sensor starts ``suggest_crops`` for a file's partition as soon
as that file's ``ingest_manifest`` run has succeeded (for a batch, one run over the
batch's range); the UI can also materialise or
backfill ``crop_suggestions`` for any file.
"""

# No `from __future__ import annotations` here: Dagster reads the annotations of
# sensor functions at run time.
from dagster import (
    AssetSelection,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunStatusSensorContext,
    SkipReason,
    define_asset_job,
    in_process_executor,
    run_status_sensor,
)

from assets.suggestions import suggestion_assets
from pipelines.jobs import JOB_TAG, ingest_manifest_job
from pipelines.tags import (
    PARTITION_RANGE_END_TAG,
    PARTITION_RANGE_START_TAG,
    PARTITION_TAG,
)

# Queued behind ingestion runs (higher runs first): suggestions can wait a little,
# operators waiting for a file's work items should not.
PRIORITY = {"dagster/priority": "-1"}

suggest_crops_job = define_asset_job(
    "suggest_crops",
    selection=AssetSelection.assets(*suggestion_assets),
    # One step; its images are fetched by a thread pool inside it.
    executor_def=in_process_executor,
    description="Fetch one provider file's new source images and suggest their "
    "crops for every aspect ratio.",
    tags={JOB_TAG: "suggest_crops"},  # never every run slot: the queue's limit
)


@run_status_sensor(
    run_status=DagsterRunStatus.SUCCESS,
    monitored_jobs=[ingest_manifest_job],
    request_job=suggest_crops_job,
    default_status=DefaultSensorStatus.RUNNING,
    description="After a provider file is ingested, suggest crops for its images.",
)
def suggest_crops_after_ingest(
    context: RunStatusSensorContext,
) -> RunRequest | SkipReason:
    tags = context.dagster_run.tags
    run_key = f"suggest-{context.dagster_run.run_id}"
    if tags.get(PARTITION_RANGE_START_TAG) and tags.get(PARTITION_RANGE_END_TAG):
        # A batch of files: one suggestion run over the same range.
        return RunRequest(
            run_key=run_key,
            tags={
                PARTITION_RANGE_START_TAG: tags[PARTITION_RANGE_START_TAG],
                PARTITION_RANGE_END_TAG: tags[PARTITION_RANGE_END_TAG],
                **PRIORITY,
            },
        )
    key = tags.get(PARTITION_TAG)
    if not key:
        return SkipReason(f"run {context.dagster_run.run_id} has no partition")
    # One suggestion run per ingestion run: Dagster refuses a second with this key.
    return RunRequest(run_key=run_key, partition_key=key, tags=PRIORITY)


suggestion_jobs = [suggest_crops_job]
suggestion_sensors = [suggest_crops_after_ingest]
