"""Answers of the file-pipeline endpoints (contract 4.9): plain JSON, no envelope.

The routes answer ``JSONResponse``s built by ``pipelines/submit.py``, which FastAPI
sends as they are: these models document them (``responses=``) without touching them.
A field marked "absent" is left out of the answer, never sent as null, when it does
not apply. tests/api/conftest.py checks every answer the API tests get, these
included, against the document.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def absent(description: str) -> Any:
    """A field the answer leaves out when it does not apply: not required, and not
    nullable either (no ``default: null`` in the document)."""
    return Field(default=None, description=description, json_schema_extra=_no_default)


class FileOutcome(BaseModel):
    """What became of one file."""

    status: str = Field(
        description="`ingested`, `failed`, `skipped` (already ingested) or `ignored`"
        " (not an .xlsx file)"
    )
    provider: str | None
    ingested_items: int
    rejected_rows: int
    duplicates: int
    error: str | None
    run_id: str = absent("The run that ingested it; absent: no run was needed")


class _Ingestion(BaseModel):
    run_id: str | None = Field(description="The last run; null: no file needed one")
    run_ids: list[str]
    files: dict[str, FileOutcome] = Field(description="By file name")
    errors: list[str] = absent("Why sources or runs failed; absent when none did")


class LocalIngestion(_Ingestion):
    """``POST /filewatcher/run-local``."""

    status: Literal["success", "failed"]
    total_new_items: int


class Download(_Ingestion):
    """``POST /filewatcher/download-s3`` and ``download-sftp``."""

    status: Literal["success", "no_files", "failed"]


class Manifest(BaseModel):
    """``POST /filewatcher/batch/run`` and ``/batchjob/run``: the nightly manifest."""

    status: Literal["success", "no_rows", "failed"]
    run_id: str
    file: str = absent("The manifest's file name; only with `success`")
    error: str = absent("Dagster's message; only with `failed`")


class Dumps(BaseModel):
    """``POST /dumpdata/run``."""

    status: Literal["success", "failed"]
    run_id: str
    files: list[str] = absent("The files written; only with `success`")
    error: str = absent("Dagster's message; only with `failed`")


class Running(BaseModel):
    """202: a run is still queued or running; ``GET /filewatcher/runs/{run_id}``
    answers for it later."""

    status: Literal["running"]
    run_id: str
    run_ids: list[str] = absent("Every run of the request; absent for another run")
    dagster_status: str = absent("Only for a run the API did not start")


class OtherRun(BaseModel):
    """A finished run the API did not start (a sensor's, a schedule's)."""

    status: Literal["success", "failed"]
    run_id: str
    dagster_status: str = Field(description="Dagster's run status, e.g. `SUCCESS`")
    error: str = absent("Why it did not succeed; only with `failed`")


# ``GET /filewatcher/runs/{run_id}``: the answer the endpoint that started the run
# would have given, or OtherRun.
RunAnswer = LocalIngestion | Download | Manifest | Dumps | OtherRun
