"""An ingestion run's config: where its files are.

A sensor, the CLI or the API gives each file's source and location in the
``manifest_file`` op's config (``locator_config``): one file's entry for a run of one
partition, or ``files`` (each with its ``partition_key``) for a batch. The step reads
them back (``given_locators``); a re-run or a backfill from the UI gives none, and the
file recorded on the first fetch is used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from smartcrop.ingestion import acquire


def locator_config(locator: acquire.Locator) -> dict[str, str | int]:
    """One file's entry in an ingestion run's config (``manifest_file``'s): what a
    sensor, the CLI or the API gives, and ``given_locators`` reads back."""
    return {
        "source": locator.source,
        "location": locator.location,
        "modified": locator.modified.isoformat() if locator.modified else "",
        "size": locator.size if locator.size is not None else -1,
    }


def _locator(entry: Mapping[str, Any]) -> acquire.Locator | None:
    if not entry.get("source"):
        return None
    modified = entry.get("modified") or ""
    size = entry.get("size", -1)
    return acquire.Locator(
        source=entry["source"],
        location=entry.get("location", ""),
        modified=datetime.fromisoformat(modified) if modified else None,
        size=size if size is not None and size >= 0 else None,
    )


def given_locators(
    config: Mapping[str, Any], keys: Sequence[str]
) -> dict[str, acquire.Locator]:
    """Where the run's files are, by partition key, from its config: ``files`` for a
    batch (each with its ``partition_key``), or one file's entry for a run of one
    partition. A re-run or a backfill from the UI gives none: the file recorded on
    the first fetch is used."""
    given = {
        entry["partition_key"]: loc
        for entry in config.get("files") or []
        if (loc := _locator(entry)) is not None
    }
    single = _locator(config)
    if single is not None and len(keys) == 1:
        given.setdefault(keys[0], single)
    return given
