"""File pipelines (contract 4.9): admin only, plain JSON (no envelope) plus run ids.

Each endpoint runs the matching Dagster job in this process, on the instance the UI
shows (``DAGSTER_HOME``, which ``smartcrop up`` sets for the API; tests put their own
on ``app.state.dagster_instance``), and answers when the run has finished. The routes
are plain ``def``: FastAPI runs them in its worker threads, so a long run never
blocks the event loop. Refusals (a folder outside the staging root, a bad
``date_range``) answer 400 in the envelope, like every other error.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Query, Request

from api.deps import ADMIN_ROLE, SettingsDep, require_roles
from smartcrop.errors import InvalidInput
from smartcrop.exports.dumps import MAX_DAYS
from smartcrop.manifests import is_manifest_name
from smartcrop.settings import CONFIG_ENV_VAR

if TYPE_CHECKING:
    from dagster import DagsterInstance

# Dagster and the code location are imported on first use, not when the API starts:
# most requests never need them.

router = APIRouter(tags=["file pipelines"], dependencies=[require_roles(ADMIN_ROLE)])

_instance_lock = threading.Lock()


def dagster_instance(request: Request) -> DagsterInstance:
    """The app's Dagster instance: injected on ``app.state``, else DAGSTER_HOME's."""
    from dagster import DagsterInstance  # noqa: PLC0415

    state = request.app.state
    with _instance_lock:
        instance = getattr(state, "dagster_instance", None)
        if instance is None:
            if os.environ.get("DAGSTER_HOME"):
                instance = DagsterInstance.get()
            else:
                # `smartcrop api` on its own: the folder `smartcrop up` would use.
                home = state.settings.smartcrop_service.dagster.home.resolve()
                home.mkdir(parents=True, exist_ok=True)
                instance = DagsterInstance.from_config(str(home))
            state.dagster_instance = instance
    return instance


def _job_context(request: Request) -> tuple[DagsterInstance, str, str | None]:
    """(instance, database URL, settings file) for building the definitions."""
    state = request.app.state
    url = state.engine.url.render_as_string(hide_password=False)
    config_path = getattr(state, "config_path", None) or os.environ.get(CONFIG_ENV_VAR)
    return dagster_instance(request), url, config_path


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


@router.post("/filewatcher/run-local")
def run_local(
    request: Request,
    settings: SettingsDep,
    folder_path: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    """Ingest the .xlsx files of a staging folder, one ``ingest_manifest`` run each.

    ``run_ids`` lists every run; ``run_id`` is the last one (null when no file
    needed a run).
    """
    from pipelines.launch import ingest_files  # noqa: PLC0415 - Dagster loads late

    files = staged_files(settings.staging_root, folder_path)
    instance, url, config_path = _job_context(request)
    return ingest_files(instance, url, config_path, files)


@router.post("/filewatcher/download-s3")
def download_s3(request: Request) -> dict[str, Any]:
    from pipelines.launch import download_new  # noqa: PLC0415

    return download_new(*_job_context(request), "s3")


@router.post("/filewatcher/download-sftp")
def download_sftp(request: Request) -> dict[str, Any]:
    from pipelines.launch import download_new  # noqa: PLC0415

    return download_new(*_job_context(request), "sftp")


def _manifest(request: Request) -> dict[str, Any]:
    from pipelines.launch import run_manifest  # noqa: PLC0415

    return run_manifest(*_job_context(request))


@router.post("/filewatcher/batch/run")
def batch_run(request: Request) -> dict[str, Any]:
    return _manifest(request)


@router.post("/batchjob/run")
def batchjob_run(request: Request) -> dict[str, Any]:
    return _manifest(request)


@router.post("/dumpdata/run")
def dumpdata_run(
    request: Request,
    settings: SettingsDep,
    date_range: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    from pipelines.launch import run_dumps  # noqa: PLC0415

    days = _days(date_range, settings.smartcrop_dumpdata.date_range)
    return run_dumps(*_job_context(request), days)
