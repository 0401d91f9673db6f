"""Provider manifests into work items: watching the sources, fetching a file once,
parsing it by its provider's layout, landing its rows and deriving the work items.

The steps, in the order a file goes through them (each a module here):

- ``watch``: what is new at a local, S3 or SFTP source, given a sensor's cursor;
- ``acquire``: partition keys, fetching a file once into the working area, quarantine;
- ``given_files``: files given by path (``smartcrop ingest``, run-local);
- ``manifests``: which provider sent a file, and its rows as common ParsedRows;
- ``landing``: recording a file and landing its rows (one COPY);
- ``work_items``: work items derived from the landed rows, and the check that every
  accepted row has its item;
- ``steps``: the steps of a run over its files (one, or a sensor's batch), each
  answering what it did as an ``outcome.StepResult`` for the Dagster assets to report;
  ``run_config`` says where a run's files are.

The S3 and SFTP clients themselves are ``smartcrop.transfer``.
"""

from smartcrop.ingestion import (
    acquire,
    given_files,
    landing,
    manifests,
    outcome,
    run_config,
    steps,
    watch,
    work_items,
)
from smartcrop.ingestion.acquire import Locator, fetch, partition_key, quarantine
from smartcrop.ingestion.given_files import GivenFile, plan_files
from smartcrop.ingestion.landing import (
    FileRecord,
    LandingResult,
    file_outcome,
    file_record,
    land_rows,
    mark_failed,
    record_file,
)
from smartcrop.ingestion.outcome import (
    Check,
    FileFailure,
    Json,
    Markdown,
    Metadata,
    StepResult,
)
from smartcrop.ingestion.run_config import given_locators, locator_config
from smartcrop.ingestion.steps import (
    check_links,
    derive_files,
    fetch_files,
    land_files,
)
from smartcrop.ingestion.watch import Listing, list_sources
from smartcrop.ingestion.work_items import (
    DerivationResult,
    LinkCheck,
    derive_work_items,
    rejected_rows,
    unlinked_rows,
)

__all__ = [
    "Check",
    "DerivationResult",
    "FileFailure",
    "FileRecord",
    "GivenFile",
    "Json",
    "LandingResult",
    "LinkCheck",
    "Listing",
    "Locator",
    "Markdown",
    "Metadata",
    "StepResult",
    "acquire",
    "check_links",
    "derive_files",
    "derive_work_items",
    "fetch",
    "fetch_files",
    "file_outcome",
    "file_record",
    "given_files",
    "given_locators",
    "land_files",
    "land_rows",
    "landing",
    "list_sources",
    "locator_config",
    "manifests",
    "mark_failed",
    "outcome",
    "partition_key",
    "plan_files",
    "quarantine",
    "record_file",
    "run_config",
    "steps",
    "rejected_rows",
    "unlinked_rows",
    "watch",
    "work_items",
]
