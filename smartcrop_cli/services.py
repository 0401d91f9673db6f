"""The long-running commands: ``api``, ``dagster`` and ``up``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from smartcrop_cli.dagster_home import dagster_env
from smartcrop_cli.ingest import first_start_ingest
from smartcrop_cli.processes import supervise
from smartcrop_cli.startup import load_settings, ready_database


def api_command(host: str, port: int, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "api.app:create_app",
        "--factory",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]


def cmd_api(args: argparse.Namespace) -> int:
    settings = load_settings()
    url = ready_database(settings)
    host = args.host or settings.smartcrop_service.api_host
    port = args.port or settings.smartcrop_service.api_port
    if args.workers > 1:
        # Workers are separate processes: hand them the resolved URL so that they
        # join this embedded server instead of each looking for one.
        env = {**os.environ, "DATABASE__URL": url}
        return supervise({"api": api_command(host, port, args.workers)}, env, {})
    import uvicorn  # noqa: PLC0415

    from api.app import create_app  # noqa: PLC0415

    # log_config=None: uvicorn's access and error logs go through the root handler,
    # in the project's format and with its secret-redacting filter.
    uvicorn.run(create_app(settings, url), host=host, port=port, log_config=None)
    return 0


def _dagster_commands(host: str, port: int) -> dict[str, list[str]]:
    bin_dir = Path(sys.executable).parent
    return {
        "dagster-webserver": [
            str(bin_dir / "dagster-webserver"),
            "-w",
            "workspace.yaml",
            "-h",
            host,
            "-p",
            str(port),
        ],
        "dagster-daemon": [
            str(bin_dir / "dagster-daemon"),
            "run",
            "-w",
            "workspace.yaml",
        ],
    }


def _dagster_ready(host: str, port: int) -> tuple[str, str]:
    return f"http://{host}:{port}/server_info", f"http://{host}:{port}"


def cmd_dagster(args: argparse.Namespace) -> int:
    settings = load_settings()
    url = ready_database(settings)
    env = dagster_env(settings, url)
    return supervise(
        _dagster_commands(args.host, args.port),
        env,
        {"Dagster UI": _dagster_ready(args.host, args.port)},
    )


def cmd_up(args: argparse.Namespace) -> int:
    settings = load_settings()
    url = ready_database(settings)
    print("database ready and migrated")
    first_start_ingest(settings, url, Path(args.samples))
    settings.staging_root.mkdir(parents=True, exist_ok=True)
    api_host = settings.smartcrop_service.api_host
    api_port = args.api_port or settings.smartcrop_service.api_port
    env = dagster_env(settings, url)
    api = f"http://{api_host}:{api_port}"
    commands = {
        **_dagster_commands(args.host, args.dagster_port),
        "api": api_command(api_host, api_port, 1),
    }
    return supervise(
        commands,
        env,
        {
            "API": (f"{api}/health", api),
            "API docs": (f"{api}/docs", f"{api}/docs"),
            "Dagster UI": _dagster_ready(args.host, args.dagster_port),
            "Staging": (f"{api}/health", str(settings.staging_root)),
        },
    )
