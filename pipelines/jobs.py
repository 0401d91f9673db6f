"""Jobs of the code location."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job, in_process_executor

from assets.ingestion import ingestion_assets

# Partitioned by provider file (inferred from the assets). In-process: a manifest
# run is three short steps; a process per step would cost seconds of Python start-up
# per file for nothing (see docs/dependencies.md).
ingest_manifest_job = define_asset_job(
    "ingest_manifest",
    selection=AssetSelection.assets(*ingestion_assets),
    executor_def=in_process_executor,
    description="Fetch one provider file, land its rows, derive its work items.",
)
