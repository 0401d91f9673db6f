"""Suggested crops for the new work items of a run's files: the step the
``crop_suggestions`` asset runs, one file at a time.

Each source image is fetched once and analysed (``service.analyse_items``, a few at
a time); every outcome is stored as it comes, so a stopped run keeps what it did. An
image that cannot be fetched or read is recorded with its reason and the run goes on:
the step fails only when the database does.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

import psycopg
from sqlalchemy.orm import Session

from smartcrop.ingestion import landing
from smartcrop.ingestion.outcome import Check, Json, Metadata, StepResult, bullets
from smartcrop.netfetch import FetchPolicy
from smartcrop.suggest import service, store
from smartcrop.suggest.fetch import FetchLimits

_log = logging.getLogger(__name__)

FIRST_FAILURES = 20


class Database(Protocol):
    """The database as the Dagster code's resource gives it."""

    def connection(self) -> AbstractContextManager[psycopg.Connection]: ...

    def session(self) -> AbstractContextManager[Session]: ...


@dataclass
class Suggested(StepResult):
    files: int = 0
    images: int = 0
    analysed: int = 0
    # What made the last file of a run of one give nothing ("no file", "skipped"...).
    status: str = "analysed"
    methods: Counter[str] = field(default_factory=Counter)
    # (image id, URL, reason) of each image that could not be fetched or read.
    failures: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def nothing(self) -> bool:
        """A run of one file that had nothing to suggest (not ingested)."""
        return self.single and not self.files

    def summary(self) -> Metadata:
        if self.nothing:
            return {"status": self.status, "images": 0}
        metadata: Metadata = {
            "status": "analysed",
            "images": self.images,
            "analysed": self.analysed,
            "failed": len(self.failures),
            "methods": Json(dict(sorted(self.methods.items()))),
        }
        if not self.single:
            metadata["files"] = self.files
        return metadata

    def checks(self) -> list[Check]:
        if self.nothing:
            return [Check(name="images_fetched", passed=True)]
        return [
            Check(
                name="images_fetched",
                passed=not self.failures,
                severity="warn",
                metadata={
                    "failed": len(self.failures),
                    "first_failures": bullets(
                        [
                            f"image {image_id} ({url}): {reason}"
                            for image_id, url, reason in sorted(self.failures)[
                                :FIRST_FAILURES
                            ]
                        ]
                    ),
                },
            )
        ]


def suggest_files(
    database: Database,
    keys: Sequence[str],
    *,
    policy: FetchPolicy,
    limits: FetchLimits,
    workers: int = service.WORKERS,
    refresh: bool = False,
    log: logging.Logger = _log,
) -> Suggested:
    """Suggest crops for the new source images of each ingested file of ``keys``
    (``refresh``: every image again); files not ingested are passed over."""
    result = Suggested(list(keys))
    for key in keys:
        with database.connection() as conn:
            record = landing.file_record(conn, key)
        if record is None or record.status != "ingested":
            result.status = "no file" if record is None else record.status
            log.info("partition %s: file is %s, nothing to suggest", key, result.status)
            continue
        result.files += 1
        with database.session() as session:
            todo = store.items_of_file(session, record.id, refresh=refresh)
        result.images += len(todo)
        failed_before = len(result.failures)
        for outcome in service.analyse_items(
            todo, workers=workers, limits=limits, policy=policy
        ):
            # Stored one by one, so a stopped run keeps what it did.
            with database.session() as session:
                store.save_outcome(session, outcome)
            if outcome.status == "ok":
                result.analysed += 1
                result.methods.update(s.method for s in outcome.suggestions)
            else:
                result.failures.append(
                    (outcome.item.id, outcome.item.url, outcome.reason or "")
                )
        failed = len(result.failures) - failed_before
        log.info(
            "%s: %d images analysed, %d could not be", key, len(todo) - failed, failed
        )
    return result
