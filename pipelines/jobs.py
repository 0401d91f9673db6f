"""Jobs of the code location."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job, in_process_executor

from assets.exports import completed_renditions, dump_snapshots, nightly_manifest
from assets.ingestion import ingestion_assets

# The run tag the queue's limits match on (tag_concurrency_limits in dagster.yaml and
# deploy/dagster.yaml): Dagster gives a run no tag that names its job, so each job the
# queue limits carries this one. As a definition tag (``tags``, not ``run_tags``): the
# daemon's sensors and schedules copy a job's run tags onto its runs, but a run
# launched through GraphQL (the UI, the API's submissions) gets its definition tags,
# and with ``run_tags`` unset the two are the same.
JOB_TAG = "smartcrop/job"

# Partitioned by provider file (inferred from the assets). In-process: a manifest
# run is three short steps; a process per step would cost seconds of Python start-up
# per file for nothing (see docs/dependencies.md).
ingest_manifest_job = define_asset_job(
    "ingest_manifest",
    selection=AssetSelection.assets(*ingestion_assets),
    executor_def=in_process_executor,
    description="Fetch one provider file, land its rows, derive its work items.",
)

# Unpartitioned, in process (each is one short step), asset checks included.
nightly_manifest_job = define_asset_job(
    "nightly_manifest_job",
    selection=AssetSelection.assets(completed_renditions, nightly_manifest),
    executor_def=in_process_executor,
    description="Write the nightly manifest, send it to every target, stamp its rows.",
    tags={JOB_TAG: "nightly_manifest_job"},  # one at a time: the queue's limit
)

dump_snapshots_job = define_asset_job(
    "dump_snapshots_job",
    selection=AssetSelection.assets(dump_snapshots),
    executor_def=in_process_executor,
    description="Write the four dump CSVs of the last N days and send them by SFTP.",
)
