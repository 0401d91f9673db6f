"""The ``smartcrop`` command.

Every sub-command reads the same settings (config.yml, then the environment), so
``DATABASE__URL=... smartcrop api --port 8123`` serves that database.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from smartcrop.db.embedded import EmbeddedDatabaseError
from smartcrop.errors import SmartcropError
from smartcrop.settings import Settings, SettingsError, get_settings

log = logging.getLogger("smartcrop.cli")

DAGSTER_HOME_DEFAULT = Path(".smartcrop/dagster_home")


def _settings() -> Settings:
    from smartcrop.logging_setup import configure_logging, secrets_of  # noqa: PLC0415

    settings = get_settings()
    configure_logging(secrets_of(settings))
    return settings


def _database_url(settings: Settings) -> str:
    from smartcrop.db import database_url  # noqa: PLC0415

    return database_url(settings)


def _migrate(url: str) -> None:
    from smartcrop.db.migrate import upgrade  # noqa: PLC0415

    upgrade(url)


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = _settings()
    url = _database_url(settings)
    _migrate(url)
    print("database migrated to the latest revision")
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    settings = _settings()
    from smartcrop.db import libpq_url  # noqa: PLC0415
    from smartcrop.db.embedded import embedded_url, upgrade_folder  # noqa: PLC0415

    if settings.database.url.get_secret_value().strip():
        raise SmartcropError(
            "database.url is set: that server is upgraded with its own tools; "
            "db-upgrade is for the embedded server's folder (database.embedded_dir)"
        )
    outcome = upgrade_folder(settings.database.embedded_dir)
    print(outcome.describe())
    if outcome.kept_old_at is not None:
        # A restored database has no planner statistics until autovacuum comes by.
        import psycopg  # noqa: PLC0415

        url = libpq_url(embedded_url(outcome.data_dir))
        with psycopg.connect(url, autocommit=True) as conn:
            names = conn.execute(
                "SELECT datname FROM pg_database WHERE datallowconn"
            ).fetchall()
        for (name,) in names:
            with psycopg.connect(url, dbname=name, autocommit=True) as conn:
                conn.execute("ANALYZE")
    return 0


def cmd_recount(args: argparse.Namespace) -> int:
    settings = _settings()
    from smartcrop.counts import recount  # noqa: PLC0415
    from smartcrop.db import session_scope  # noqa: PLC0415

    url = _database_url(settings)
    _migrate(url)
    with session_scope(url) as session:
        done = recount(session)
    print(
        f"counts rebuilt: {done.work_items} work items, "
        f"{done.renditions} renditions in the report"
    )
    return 0


def cmd_db_url(args: argparse.Namespace) -> int:
    settings = _settings()
    from smartcrop.db import libpq_url  # noqa: PLC0415

    url = _database_url(settings)
    print(url if args.sqlalchemy else libpq_url(url))
    return 0


def _read_new_password() -> str:
    password = os.environ.get("SMARTCROP_ADMIN_PASSWORD")
    if password:
        return password
    if not sys.stdin.isatty():
        raise SmartcropError(
            "set SMARTCROP_ADMIN_PASSWORD or run in a terminal to be asked for it"
        )
    first = getpass.getpass("Password for the new admin: ")
    if getpass.getpass("Repeat the password: ") != first:
        raise SmartcropError("the two passwords differ")
    return first


def cmd_create_admin(args: argparse.Namespace) -> int:
    settings = _settings()
    from smartcrop.db import session_scope  # noqa: PLC0415
    from smartcrop.users import create_user  # noqa: PLC0415

    password = _read_new_password()
    url = _database_url(settings)
    _migrate(url)
    with session_scope(url) as session:
        user = create_user(
            session,
            name=args.name,
            email=args.email,
            password=password,
            role_name="admin",
        )
        print(f"admin {user.emailid} created (user id {user.id})")
    return 0


def _api_command(host: str, port: int, workers: int) -> list[str]:
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
    settings = _settings()
    url = _database_url(settings)
    _migrate(url)
    host = args.host or settings.smartcrop_service.api_host
    port = args.port or settings.smartcrop_service.api_port
    if args.workers > 1:
        # Workers are separate processes: hand them the resolved URL so that they
        # join this embedded server instead of each looking for one.
        env = {**os.environ, "DATABASE__URL": url}
        return _supervise({"api": _api_command(host, port, args.workers)}, env, {})
    import uvicorn  # noqa: PLC0415

    from api.app import create_app  # noqa: PLC0415

    # log_config=None: uvicorn's access and error logs go through the root handler,
    # in the project's format and with its secret-redacting filter.
    uvicorn.run(create_app(settings, url), host=host, port=port, log_config=None)
    return 0


def _dagster_env(url: str) -> dict[str, str]:
    home = Path(os.environ.get("DAGSTER_HOME") or DAGSTER_HOME_DEFAULT).resolve()
    home.mkdir(parents=True, exist_ok=True)
    # The repository's dagster.yaml is the source of truth; DAGSTER_HOME holds a copy
    # so Dagster's run history stays out of the working tree.
    if Path("dagster.yaml").is_file():
        shutil.copyfile("dagster.yaml", home / "dagster.yaml")
    return {**os.environ, "DAGSTER_HOME": str(home), "DATABASE__URL": url}


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


def _wait_for(url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                if response.status < 500:
                    return True
        except OSError:
            time.sleep(0.5)
    return False


def _supervise(
    commands: dict[str, list[str]],
    env: dict[str, str],
    ready: dict[str, tuple[str, str]],
) -> int:
    """Run the children, print where they answer, stop them all on Ctrl-C or exit."""
    children = {
        name: subprocess.Popen(cmd, env=env)  # noqa: S603 - our own fixed commands
        for name, cmd in commands.items()
    }
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        for label, (probe, shown) in ready.items():
            if _wait_for(probe, timeout=120):
                print(f"{label:<12} {shown}", flush=True)
            else:
                print(
                    f"{label} did not answer at {probe} within 120 s", file=sys.stderr
                )
        if ready:
            print("Press Ctrl-C to stop.", flush=True)
        while not stopping:
            exited = {
                n: c.returncode for n, c in children.items() if c.poll() is not None
            }
            if exited:
                print(f"stopped because a service exited: {exited}", file=sys.stderr)
                return 1
            time.sleep(0.5)
        return 0
    finally:
        for child in children.values():
            if child.poll() is None:
                child.terminate()
        for child in children.values():
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()


def cmd_dagster(args: argparse.Namespace) -> int:
    settings = _settings()
    url = _database_url(settings)
    _migrate(url)
    env = _dagster_env(url)
    return _supervise(
        _dagster_commands(args.host, args.port),
        env,
        {"Dagster UI": _dagster_ready(args.host, args.port)},
    )


def cmd_up(args: argparse.Namespace) -> int:
    settings = _settings()
    url = _database_url(settings)
    _migrate(url)
    print("database ready and migrated")
    _first_start_ingest(settings, url, args)
    settings.staging_root.mkdir(parents=True, exist_ok=True)
    api_host = settings.smartcrop_service.api_host
    api_port = args.api_port or settings.smartcrop_service.api_port
    env = _dagster_env(url)
    api = f"http://{api_host}:{api_port}"
    commands = {
        **_dagster_commands(args.host, args.dagster_port),
        "api": _api_command(api_host, api_port, 1),
    }
    return _supervise(
        commands,
        env,
        {
            "API": (f"{api}/health", api),
            "API docs": (f"{api}/docs", f"{api}/docs"),
            "Dagster UI": _dagster_ready(args.host, args.dagster_port),
            "Staging": (f"{api}/health", str(settings.staging_root)),
        },
    )


def _run_ingest(url: str, paths: list[Path]) -> dict:
    """Ingest through the Dagster job, in this process, on the local instance."""
    env = _dagster_env(url)
    os.environ["DAGSTER_HOME"] = env["DAGSTER_HOME"]
    from dagster import DagsterInstance  # noqa: PLC0415

    from pipelines.runner import ingest_paths  # noqa: PLC0415

    with DagsterInstance.get() as instance:
        return ingest_paths(
            paths,
            instance=instance,
            database_url=url,
            config_path=os.environ.get("SMARTCROP_CONFIG"),
        )


def cmd_ingest(args: argparse.Namespace) -> int:
    settings = _settings()
    url = _database_url(settings)
    _migrate(url)
    summary = _run_ingest(url, [Path(p) for p in args.paths])
    print(json.dumps(summary, indent=2))
    failed = [n for n, f in summary["files"].items() if f["status"] == "failed"]
    return 1 if failed else 0


def _first_start_ingest(settings: Settings, url: str, args: argparse.Namespace) -> None:
    """On the first start (no file ever recorded), ingest the sample manifests."""
    import psycopg  # noqa: PLC0415

    from smartcrop.db import libpq_url  # noqa: PLC0415

    samples = Path(args.samples)
    if not samples.is_dir():
        return
    with psycopg.connect(libpq_url(url)) as conn:
        seen = conn.execute("SELECT count(*) FROM smartcrop_upload_files").fetchone()
    if seen and seen[0]:
        return
    # The offline demo beside the samples: its images are served by the API
    # (/demo-images/), so their crops are suggested on demand once it is up.
    demo = samples.parent / "demo"
    summary = _run_ingest(url, [samples, *([demo] if demo.is_dir() else [])])
    print(
        f"first start: ingested {len(summary['files'])} sample manifests from "
        f"{samples}, {summary['total_new_items']} work items"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smartcrop", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="migrate, then run the API, Dagster UI and daemon")
    up.add_argument("--host", default="127.0.0.1", help="Dagster UI host")
    up.add_argument("--dagster-port", type=int, default=3000)
    up.add_argument("--api-port", type=int, default=None)
    up.add_argument("--samples", default="samples/manifests")
    up.set_defaults(func=cmd_up)

    sub.add_parser(
        "migrate", help="bring the schema to the latest revision"
    ).set_defaults(func=cmd_migrate)

    sub.add_parser(
        "db-upgrade",
        help="move the embedded database folder made by an older PostgreSQL major "
        "to the embedded server's major (the old folder is kept beside it)",
    ).set_defaults(func=cmd_db_upgrade)

    sub.add_parser(
        "recount",
        help="rebuild the dashboard and report counts from the tables (after a "
        "restore, a manual fix or a bulk load in SQL)",
    ).set_defaults(func=cmd_recount)

    db_url = sub.add_parser("db-url", help="print the database URL in use")
    db_url.add_argument(
        "--sqlalchemy", action="store_true", help="with the SQLAlchemy driver part"
    )
    db_url.set_defaults(func=cmd_db_url)

    admin = sub.add_parser("create-admin", help="create an admin user")
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", required=True)
    admin.set_defaults(func=cmd_create_admin)

    api = sub.add_parser("api", help="serve the API with uvicorn")
    api.add_argument("--host", default=None)
    api.add_argument("--port", type=int, default=None)
    api.add_argument("--workers", type=int, default=1)
    api.set_defaults(func=cmd_api)

    ingest_cmd = sub.add_parser(
        "ingest", help="ingest manifest files or folders through the Dagster job"
    )
    ingest_cmd.add_argument("paths", nargs="+", metavar="PATH")
    ingest_cmd.set_defaults(func=cmd_ingest)

    dagster = sub.add_parser("dagster", help="run the Dagster UI and daemon")
    dagster.add_argument("--host", default="127.0.0.1")
    dagster.add_argument("--port", type=int, default=3000)
    dagster.set_defaults(func=cmd_dagster)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (SettingsError, SmartcropError, EmbeddedDatabaseError) as exc:
        print(f"smartcrop: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
