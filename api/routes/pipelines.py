"""File pipelines (contract 4.9): admin only, plain JSON (no envelope) plus run ids.

Each endpoint submits its runs to Dagster (pipelines/submit.py: through the
webserver's GraphQL API, so the run queue and launcher apply) and waits for them up to
``smartcrop_service.dagster.wait_seconds``: the contract's body when they have
finished, else 202 ``running`` with the run ids, which
``GET /filewatcher/runs/{run_id}`` answers for later. The routes are plain ``def``:
FastAPI runs them in its worker threads, so a wait never blocks the event loop.
Refusals (a folder outside the staging root, a bad ``date_range``) answer 400 in the
envelope, like every other error, and a webserver that cannot be reached 503, before
anything is started.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine

from api.deps import ADMIN_ROLE, SettingsDep, require_roles
from api.envelope import ErrorEnvelope
from api.schemas.pipelines import (
    Download,
    Dumps,
    LocalIngestion,
    Manifest,
    RunAnswer,
    Running,
)
from smartcrop.errors import InvalidInput, NotFound
from smartcrop.exports.dumps import MAX_DAYS
from smartcrop.ingestion.manifests import is_manifest_name
from smartcrop.settings import Settings

if TYPE_CHECKING:
    from dagster import DagsterInstance

    from pipelines.submit import Dagster, Started

# Dagster and the code location are imported on first use, not when the API starts:
# most requests never need them.

router = APIRouter(tags=["file pipelines"], dependencies=[require_roles(ADMIN_ROLE)])

_instance_lock = threading.Lock()


def dagster_instance(request: Request, settings: Settings) -> DagsterInstance:
    """The app's Dagster instance (its run storage): injected on ``app.state``, else
    DAGSTER_HOME's, else the folder ``smartcrop up`` uses."""
    from dagster import DagsterInstance  # noqa: PLC0415

    state = request.app.state
    with _instance_lock:
        instance = getattr(state, "dagster_instance", None)
        if instance is None:
            if os.environ.get("DAGSTER_HOME"):
                instance = DagsterInstance.get()
            else:
                # `smartcrop api` on its own: the folder `smartcrop up` would use.
                home = settings.smartcrop_service.dagster.home.resolve()
                home.mkdir(parents=True, exist_ok=True)
                instance = DagsterInstance.from_config(str(home))
            state.dagster_instance = instance
    return instance


def _dagster(request: Request, settings: Settings) -> Dagster:
    from pipelines.submit import Dagster  # noqa: PLC0415 - Dagster loads late

    return Dagster(
        dagster_instance(request, settings), settings.smartcrop_service.dagster
    )


def _database_url(request: Request) -> str:
    engine: Engine = request.app.state.engine
    return engine.url.render_as_string(hide_password=False)


def _answer(
    request: Request, settings: Settings, start: Callable[[Dagster], Started]
) -> JSONResponse:
    from pipelines.submit import wait_and_answer  # noqa: PLC0415

    dagster = _dagster(request, settings)
    status, body = wait_and_answer(dagster, _database_url(request), start(dagster))
    return JSONResponse(body, status_code=status)


def staged_files(staging_root: Path, folder_path: str | None) -> list[Path]:
    """The manifests directly in ``folder_path``, which must be under the root.

    A relative path is taken under the staging root. Symlinks and ``..`` are resolved
    before the check, and a file that is a link (which could point anywhere) is left
    out, so nothing outside the root is ever read.
    """
    if not folder_path or not folder_path.strip():
        raise InvalidInput("folder_path is required: a folder under the staging root")
    root = staging_root.resolve()
    try:
        folder = (root / folder_path.strip()).resolve()
        is_dir = folder.is_relative_to(root) and folder.is_dir()
    except (ValueError, OSError):
        # A NUL byte (ValueError) or a name the file system refuses (too long, ...):
        # no such folder can exist, so it is the caller's input that is wrong.
        raise InvalidInput(f"folder_path {folder_path!r} is not a folder") from None
    if not folder.is_relative_to(root):
        raise InvalidInput(
            f"folder_path must be a folder under the staging root {root}"
        )
    if not is_dir:
        raise InvalidInput(f"folder_path {folder_path!r} is not a folder")
    return sorted(
        (
            path
            for path in folder.iterdir()
            if is_manifest_name(path.name)
            and not path.is_symlink()
            and path.is_file()
            and path.resolve().is_relative_to(root)
        ),
        key=lambda path: path.name,
    )


def _days(date_range: str | None, default: int) -> int:
    if date_range is None or not date_range.strip():
        return default
    try:
        days = int(date_range)
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"date_range must be a whole number from 1 to {MAX_DAYS}")
    return days


def _run_responses(answer: Any) -> dict[int | str, dict[str, Any]]:
    """The answers of an endpoint that starts runs, for the OpenAPI document.

    Documentation only (``responses=``, no ``response_model``): the routes return
    ``JSONResponse``s, which FastAPI sends as they are.
    """
    return {
        200: {"model": answer, "description": "Every run has finished"},
        202: {"model": Running, "description": "Still running after wait_seconds"},
        503: {
            "model": ErrorEnvelope,
            "description": "Dagster's webserver cannot be reached; nothing started",
        },
    }


@router.post("/filewatcher/run-local", responses=_run_responses(LocalIngestion))
def run_local(
    request: Request,
    settings: SettingsDep,
    folder_path: Annotated[str | None, Query()] = None,
) -> JSONResponse:
    """Ingest the .xlsx files of a staging folder, batched into ``ingest_manifest``
    runs as the local sensor batches them (files already ingested are skipped).

    ``run_ids`` lists every run; ``run_id`` is the last one (null when no file
    needed a run).
    """
    from pipelines.submit import start_local  # noqa: PLC0415

    files = staged_files(settings.staging_root, folder_path)
    url = _database_url(request)
    return _answer(request, settings, lambda d: start_local(d, url, files))


@router.post("/filewatcher/download-s3", responses=_run_responses(Download))
def download_s3(request: Request, settings: SettingsDep) -> JSONResponse:
    from pipelines.submit import start_download  # noqa: PLC0415

    return _answer(request, settings, lambda d: start_download(d, settings, "s3"))


@router.post("/filewatcher/download-sftp", responses=_run_responses(Download))
def download_sftp(request: Request, settings: SettingsDep) -> JSONResponse:
    from pipelines.submit import start_download  # noqa: PLC0415

    return _answer(request, settings, lambda d: start_download(d, settings, "sftp"))


def _manifest(request: Request, settings: Settings) -> JSONResponse:
    from pipelines.submit import start_manifest  # noqa: PLC0415

    return _answer(request, settings, start_manifest)


@router.post("/filewatcher/batch/run", responses=_run_responses(Manifest))
def batch_run(request: Request, settings: SettingsDep) -> JSONResponse:
    return _manifest(request, settings)


@router.post("/batchjob/run", responses=_run_responses(Manifest))
def batchjob_run(request: Request, settings: SettingsDep) -> JSONResponse:
    return _manifest(request, settings)


@router.post("/dumpdata/run", responses=_run_responses(Dumps))
def dumpdata_run(
    request: Request,
    settings: SettingsDep,
    date_range: Annotated[str | None, Query()] = None,
) -> JSONResponse:
    from pipelines.submit import start_dumps  # noqa: PLC0415

    days = _days(date_range, settings.smartcrop_dumpdata.date_range)
    return _answer(request, settings, lambda d: start_dumps(d, days))


@router.get(
    "/filewatcher/runs/{run_id}",
    responses={
        200: {"model": RunAnswer, "description": "The run has finished"},
        202: {"model": Running, "description": "Still queued or running"},
        404: {"model": ErrorEnvelope, "description": "No such run on the instance"},
    },
)
def run_status(request: Request, settings: SettingsDep, run_id: str) -> JSONResponse:
    """A run an endpoint started: 202 ``running`` while it (or a run its request
    started with it) is queued or running, then the body the endpoint would have
    given. Any other run: its status (``dagster_status``) and, if it failed, why."""
    from pipelines.submit import answer_for_run  # noqa: PLC0415

    instance = dagster_instance(request, settings)
    answer = answer_for_run(instance, _database_url(request), run_id.strip())
    if answer is None:
        raise NotFound(f"No Dagster run {run_id!r}")
    status, body = answer
    return JSONResponse(body, status_code=status)
