"""Running the ingestion job in process: ``smartcrop ingest`` and ``make up``'s samples.

Each file is one run of the same ``ingest_manifest`` job the sensors start, on the
given Dagster instance, so the runs and their lineage show in the UI.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from dagster import DagsterInstance

from assets.ingestion import manifest_partitions
from pipelines.definitions import build_definitions
from smartcrop import acquire, ingest
from smartcrop.manifests import is_manifest_name

log = logging.getLogger(__name__)


def expand(paths: list[Path]) -> list[Path]:
    """Files as given, folders as their .xlsx files in name order (not recursive)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(
                    (
                        p
                        for p in path.iterdir()
                        if p.is_file() and is_manifest_name(p.name)
                    ),
                    key=lambda p: p.name,
                )
            )
        else:
            files.append(path)
    return files


def _outcome(status: str, **fields: Any) -> dict[str, Any]:
    return {
        "status": status,
        "provider": fields.get("provider"),
        "ingested_items": fields.get("ingested_items", 0),
        "rejected_rows": fields.get("rejected_rows", 0),
        "duplicates": fields.get("duplicates", 0),
        "error": fields.get("error"),
    }


def ingest_paths(
    paths: list[Path],
    *,
    instance: DagsterInstance,
    database_url: str,
    config_path: str | None = None,
    source: str = "cli",
    console_log_level: str | None = None,
) -> dict[str, Any]:
    """Ingest files and folders; the JSON summary of ``smartcrop ingest``.

    ``console_log_level`` sets the runs' console logger (default: the instance's
    ``python_log_level``); every event is stored whatever it is.
    """
    import psycopg  # noqa: PLC0415

    from smartcrop.db import libpq_url  # noqa: PLC0415

    defs = build_definitions(database_url=database_url, config_path=config_path)
    loggers = (
        {"loggers": {"console": {"config": {"log_level": console_log_level}}}}
        if console_log_level
        else {}
    )
    job = defs.resolve_job_def("ingest_manifest")
    files: dict[str, dict[str, Any]] = {}
    total = 0
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        for path in expand(paths):
            # Shown, stored and used as a tag: bytes that are not UTF-8 become U+FFFD.
            name = acquire.readable(path.name)
            if not path.is_file():
                files[name] = _outcome("failed", error=f"{path} is not a file")
                continue
            if not is_manifest_name(name):
                files[name] = _outcome("ignored", error="only .xlsx files are ingested")
                continue
            checksum = ingest.file_checksum(path)
            key = acquire.partition_key(name, f"{source}|{checksum}")
            known = ingest.file_record(conn, key)
            if known is not None and known.status == "ingested":
                # The same file given again: nothing to do, and nothing new from it.
                files[name] = _outcome(
                    "skipped", error=f"already ingested (partition {key})"
                )
                continue
            locator = acquire.Locator(source, str(path.resolve()))
            instance.add_dynamic_partitions(manifest_partitions.name, [key])
            result = job.execute_in_process(
                partition_key=key,
                run_config={
                    "ops": {
                        "manifest_file": {
                            "config": {"source": source, "location": locator.location}
                        }
                    },
                    **loggers,
                },
                instance=instance,
                raise_on_error=False,
                tags={"smartcrop/source": source, "smartcrop/file": name},
            )
            files[name] = {
                **_summary_of(conn, key, result.success),
                "run_id": result.run_id,
            }
            total += files[name]["ingested_items"]
    return {"files": files, "total_new_items": total}


def _summary_of(conn: Any, key: str, success: bool) -> dict[str, Any]:
    row = conn.execute(
        "SELECT status, providername, coalesce(ingesteditems, 0),"
        " coalesce(rejectedrows, 0), coalesce(duplicates, 0), error"
        " FROM smartcrop_upload_files WHERE partitionkey = %s ORDER BY id DESC LIMIT 1",
        (key,),
    ).fetchone()
    if row is None:
        return _outcome("failed", error="the run failed before the file was recorded")
    status, provider, items, rejected, duplicates, error = row
    if status == "skipped":
        items = rejected = duplicates = 0
    elif not success and status != "failed":
        status, error = (
            "failed",
            error or "the ingestion run failed; see the Dagster UI",
        )
    return _outcome(
        status,
        provider=provider,
        ingested_items=items,
        rejected_rows=rejected,
        duplicates=duplicates,
        error=error,
    )
