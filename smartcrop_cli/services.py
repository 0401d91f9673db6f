"""The long-running commands: ``api``, ``dagster`` and ``up``.

``smartcrop up`` is the production topology on one machine: one Dagster code server
that both the webserver and the daemon load the code location from (a workspace file
in the Dagster home names it), the daemon, the webserver, and the API; every child's
output prefixed with its name, all stopped together.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path

from smartcrop.settings import Settings
from smartcrop_cli.dagster_home import dagster_env, write_workspace
from smartcrop_cli.ingest import first_start_ingest
from smartcrop_cli.processes import Address, Service, answers, supervise
from smartcrop_cli.startup import load_settings, ready_database

# The code server listens on loopback only: the webserver and the daemon are beside it.
CODE_SERVER_HOST = "127.0.0.1"


def free_port(host: str = CODE_SERVER_HOST) -> int:
    """A port the kernel just handed out (the code server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def reachable(host: str) -> str:
    """The address to connect to a server that listens on ``host``."""
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host  # noqa: S104


def api_command(host: str, port: int, workers: int) -> list[str]:
    """`smartcrop api` as a child of `smartcrop up`: the same path a user runs."""
    return [
        sys.executable,
        "-m",
        "smartcrop_cli",
        "api",
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
    import uvicorn  # noqa: PLC0415

    # log_config=None, in this process and in every worker: uvicorn configures no
    # handler of its own, so its access and error lines go through the root handler
    # that create_app installs, in the project's format and through its
    # secret-redacting filter (a token in a query string, a database password).
    if args.workers > 1:
        # Workers are processes uvicorn starts (and restarts), each building the app
        # with the factory: hand them the resolved URL so that they join this
        # embedded server instead of each looking for one.
        os.environ["DATABASE__URL"] = url
        uvicorn.run(
            "api.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=args.workers,
            log_config=None,
        )
        return 0
    from api.app import create_app  # noqa: PLC0415

    uvicorn.run(create_app(settings, url), host=host, port=port, log_config=None)
    return 0


def dagster_children(
    settings: Settings, home: Path, host: str, port: int
) -> dict[str, Service]:
    """The code server, the daemon and the webserver, sharing the one code server."""
    location = settings.smartcrop_service.dagster.code_location
    code_port = free_port()
    workspace = str(write_workspace(home, CODE_SERVER_HOST, code_port, location))
    bin_dir = Path(sys.executable).parent
    # The daemon and the webserver load the workspace once, at start: they wait for
    # the code server's port, which opens once the code is loaded.
    code_server = (CODE_SERVER_HOST, code_port)
    code = [
        str(bin_dir / "dagster"),
        "code-server",
        "start",
        "--module-name",
        "pipelines.definitions",
        "--attribute",
        "defs",
        "--working-directory",
        str(Path.cwd()),
        "--location-name",
        location,
        "--host",
        CODE_SERVER_HOST,
        "--port",
        str(code_port),
        # Run workers start as `<this python> -m dagster`, so they need no
        # activated virtualenv on the PATH.
        "--use-python-environment-entry-point",
        "--log-level",
        "info",
    ]
    daemon = [
        str(bin_dir / "dagster-daemon"),
        "run",
        "--workspace",
        workspace,
        "--log-level",
        "info",
    ]
    webserver = [
        str(bin_dir / "dagster-webserver"),
        "--workspace",
        workspace,
        "--host",
        host,
        "--port",
        str(port),
        "--dagster-log-level",
        "info",
    ]
    return {
        "dagster-code": Service(code),
        "dagster-daemon": Service(daemon, after_port=code_server),
        "dagster-webserver": Service(webserver, after_port=code_server),
    }


def location_loaded(graphql_url: str, location: str) -> Callable[[], bool]:
    """A probe: the webserver has loaded the code location from the code server."""
    query = (
        "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus"
        " locationOrLoadError { __typename } } } } }"
    )

    def probe() -> bool:
        request = urllib.request.Request(  # noqa: S310 - our own loopback URL
            graphql_url,
            data=json.dumps({"query": query}).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
                body = json.load(response)
        except (OSError, ValueError):
            return False
        entries = (body.get("data") or {}).get("workspaceOrError") or {}
        return any(
            entry["name"] == location
            and entry["loadStatus"] == "LOADED"
            and (entry.get("locationOrLoadError") or {}).get("__typename")
            == "RepositoryLocation"
            for entry in entries.get("locationEntries") or []
        )

    return probe


def _dagster_ui(settings: Settings, host: str, port: int) -> tuple[str, Address]:
    """The webserver's GraphQL URL, and its line in the list."""
    base = f"http://{reachable(host)}:{port}"
    location = settings.smartcrop_service.dagster.code_location
    graphql = f"{base}/graphql"
    return graphql, Address("Dagster UI", base, location_loaded(graphql, location))


def _child_env(
    settings: Settings, url: str, graphql_url: str, keep_instance: bool
) -> dict[str, str]:
    return {
        **dagster_env(settings, url, keep_instance),
        # Every line as it is written, not when a pipe's buffer fills.
        "PYTHONUNBUFFERED": "1",
        # The API submits runs to the webserver started here.
        "SMARTCROP_SERVICE__DAGSTER__GRAPHQL_URL": graphql_url,
    }


def cmd_dagster(args: argparse.Namespace) -> int:
    settings = load_settings()
    url = ready_database(settings)
    graphql, ui = _dagster_ui(settings, args.host, args.port)
    env = _child_env(settings, url, graphql, args.keep_instance)
    home = Path(env["DAGSTER_HOME"])
    return supervise(dagster_children(settings, home, args.host, args.port), env, [ui])


ALLOWED_HOSTS_ENV = "SMARTCROP_SERVICE__IMAGE_FETCH__ALLOWED_HOSTS"


def allow_own_api(settings: Settings, api_host: str, api_port: int) -> dict[str, str]:
    """The environment that adds the API's own address to the fetch policy's
    ``allowed_hosts``: the offline demo's images are served by the API itself
    (``/demo-images/``, on loopback), which the policy otherwise refuses."""
    allowed = list(settings.smartcrop_service.image_fetch.allowed_hosts)
    own = f"{reachable(api_host)}:{api_port}"
    if own not in allowed:
        allowed.append(own)
    return {ALLOWED_HOSTS_ENV: json.dumps(allowed)}


def _admin_note(url: str) -> list[str]:
    """How to create the first admin, while there is no active one."""
    from smartcrop.db import session_scope  # noqa: PLC0415
    from smartcrop.identity.users import has_active_admin  # noqa: PLC0415

    with session_scope(url) as session:
        if has_active_admin(session):
            return []
    program = Path(sys.executable).parent / "smartcrop"
    if shutil.which("smartcrop") == str(program):
        shown = "smartcrop"
    elif program.is_relative_to(Path.cwd()):
        shown = str(program.relative_to(Path.cwd()))
    else:
        shown = str(program)
    return [
        "No admin yet. Create the first one (it asks for the password, or set "
        f"SMARTCROP_ADMIN_PASSWORD): {shown} create-admin --email EMAIL --name NAME"
    ]


def cmd_up(args: argparse.Namespace) -> int:
    settings = load_settings()
    url = ready_database(settings)
    print("database ready and migrated", flush=True)
    api_host = settings.smartcrop_service.api_host
    api_port = args.api_port or settings.smartcrop_service.api_port
    # The demo's images are the API's own: this process (the first ingestion) and
    # every child (the API, the code server's runs) allow its address.
    os.environ.update(allow_own_api(settings, api_host, api_port))
    first_start_ingest(settings, url, Path(args.samples))
    settings.staging_root.mkdir(parents=True, exist_ok=True)
    api = f"http://{reachable(api_host)}:{api_port}"
    graphql, ui = _dagster_ui(settings, args.host, args.dagster_port)
    env = _child_env(settings, url, graphql, args.keep_instance)
    home = Path(env["DAGSTER_HOME"])
    children = {
        **dagster_children(settings, home, args.host, args.dagster_port),
        "api": Service(api_command(api_host, api_port, 1)),
    }
    addresses = [
        Address("API", api, answers(f"{api}/health")),
        Address("API docs", f"{api}/docs", answers(f"{api}/docs")),
        Address("Crop page", f"{api}/ui/", answers(f"{api}/ui/")),
        ui,
        Address("Staging folder", str(settings.staging_root.resolve())),
    ]
    return supervise(children, env, addresses, _admin_note(url))
