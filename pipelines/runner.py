"""Running the ingestion job in process: ``smartcrop ingest`` and ``make up``'s samples.

Each file is one run of the same ``ingest_manifest`` job the sensors start, on the
given Dagster instance, so the runs and their lineage show in the UI.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from dagster import DagsterInstance

from assets.ingestion import MANIFEST_PARTITIONS
from pipelines.definitions import build_definitions
from pipelines.sensors import run_request_for
from smartcrop.ingestion import landing
from smartcrop.ingestion.given_files import plan_files

log = logging.getLogger(__name__)


def ingest_paths(
    paths: list[Path],
    *,
    instance: DagsterInstance,
    database_url: str,
    config_path: str | None = None,
    source: str = "cli",
    console_log_level: str | None = None,
) -> dict[str, Any]:
    """Ingest files and folders, one run each, in this process (the CLI's way: a
    script on the local instance); the JSON summary of ``smartcrop ingest``.

    ``console_log_level`` sets the runs' console logger (default: the instance's
    ``python_log_level``); every event is stored whatever it is.
    """

    from smartcrop.db import bulk_connection, get_engine  # noqa: PLC0415

    defs = build_definitions(database_url=database_url, config_path=config_path)
    loggers = (
        {"loggers": {"console": {"config": {"log_level": console_log_level}}}}
        if console_log_level
        else {}
    )
    job = defs.resolve_job_def("ingest_manifest")
    with bulk_connection(get_engine(database_url), autocommit=True) as conn:
        todo, files = plan_files(conn, paths, source)
        for given in todo:
            instance.add_dynamic_partitions(MANIFEST_PARTITIONS, [given.key])
            result = job.execute_in_process(
                partition_key=given.key,
                run_config={
                    **run_request_for(given.locator, given.key).run_config,
                    **loggers,
                },
                instance=instance,
                raise_on_error=False,
                tags={"smartcrop/source": source, "smartcrop/file": given.name},
            )
            files[given.name] = {
                **landing.file_outcome(conn, given.key, result.success),
                "run_id": result.run_id,
            }
    total = sum(f["ingested_items"] for f in files.values())
    return {"files": files, "total_new_items": total}
