"""Running the ingestion job in process: ``smartcrop ingest`` and ``make up``'s samples.

Each file is one run of the same ``ingest_manifest`` job the sensors start, on the
given Dagster instance, so the runs and their lineage show in the UI.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dagster import DagsterInstance

from assets.ingestion import manifest_partitions
from pipelines.definitions import build_definitions
from pipelines.sensors import run_request_for
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


@dataclass(frozen=True)
class GivenFile:
    """A file given by path that needs a run: its partition and where it is."""

    name: str
    key: str
    locator: acquire.Locator


def plan_files(
    conn: Any, paths: list[Path], source: str
) -> tuple[list[GivenFile], dict[str, dict[str, Any]]]:
    """Which of the files given (folders as their manifests) need a run, and the
    outcome of those that do not.

    A file given by path is known by its content: its partition key is its name and
    checksum, so the same file given again is ``skipped`` once it was ingested (and
    run again after a failure); anything not an .xlsx file is ``ignored``.
    """
    todo: list[GivenFile] = []
    done: dict[str, dict[str, Any]] = {}
    for path in expand(paths):
        # Shown, stored and used as a tag: bytes that are not UTF-8 become U+FFFD.
        name = acquire.readable(path.name)
        if not path.is_file():
            done[name] = ingest.outcome("failed", error=f"{path} is not a file")
            continue
        if not is_manifest_name(name):
            done[name] = ingest.outcome(
                "ignored", error="only .xlsx files are ingested"
            )
            continue
        key = acquire.partition_key(name, f"{source}|{ingest.file_checksum(path)}")
        known = ingest.file_record(conn, key)
        if known is not None and known.status == "ingested":
            # The same file given again: nothing to do, and nothing new from it.
            done[name] = ingest.outcome(
                "skipped", error=f"already ingested (partition {key})"
            )
            continue
        todo.append(GivenFile(name, key, acquire.Locator(source, str(path.resolve()))))
    return todo, done


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
    import psycopg  # noqa: PLC0415

    from smartcrop.db import libpq_url  # noqa: PLC0415

    defs = build_definitions(database_url=database_url, config_path=config_path)
    loggers = (
        {"loggers": {"console": {"config": {"log_level": console_log_level}}}}
        if console_log_level
        else {}
    )
    job = defs.resolve_job_def("ingest_manifest")
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        todo, files = plan_files(conn, paths, source)
        for given in todo:
            instance.add_dynamic_partitions(manifest_partitions.name, [given.key])
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
                **ingest.file_outcome(conn, given.key, result.success),
                "run_id": result.run_id,
            }
    total = sum(f["ingested_items"] for f in files.values())
    return {"files": files, "total_new_items": total}
