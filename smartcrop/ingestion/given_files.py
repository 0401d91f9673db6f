"""Files given by path (``smartcrop ingest``, ``POST /filewatcher/run-local``): which
need an ingestion run, and what became of the others.

A file given by path is known by its content: its partition key is its name and its
checksum, so the same file given again is ``skipped`` once ingested (and run again
after a failure), wherever it was copied from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smartcrop.ingestion import acquire, landing
from smartcrop.ingestion.manifests import is_manifest_name


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
            done[name] = landing.outcome("failed", error=f"{path} is not a file")
            continue
        if not is_manifest_name(name):
            done[name] = landing.outcome(
                "ignored", error="only .xlsx files are ingested"
            )
            continue
        key = acquire.partition_key(name, f"{source}|{landing.file_checksum(path)}")
        known = landing.file_record(conn, key)
        if known is not None and known.status == "ingested":
            # The same file given again: nothing to do, and nothing new from it.
            done[name] = landing.outcome(
                "skipped", error=f"already ingested (partition {key})"
            )
            continue
        todo.append(GivenFile(name, key, acquire.Locator(source, str(path.resolve()))))
    return todo, done
