"""The ``smartcrop`` command: its sub-commands and flags.

Every sub-command reads the same settings (config.yml, then the environment), so
``DATABASE__URL=... smartcrop api --port 8123`` serves that database.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from smartcrop.db.embedded import EmbeddedDatabaseError
from smartcrop.errors import SmartcropError
from smartcrop.settings import SettingsError
from smartcrop_cli.database import (
    cmd_create_admin,
    cmd_db_upgrade,
    cmd_db_url,
    cmd_migrate,
    cmd_recount,
)
from smartcrop_cli.ingest import cmd_ingest
from smartcrop_cli.services import cmd_api, cmd_dagster, cmd_up

KEEP_INSTANCE_HELP = (
    "use the dagster.yaml already in DAGSTER_HOME (e.g. deploy/dagster.yaml: "
    "PostgreSQL storage) instead of copying the repository's dagster.yaml over it"
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smartcrop", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="migrate, then run the API, Dagster UI and daemon")
    up.add_argument("--host", default="127.0.0.1", help="Dagster UI host")
    up.add_argument("--dagster-port", type=int, default=3000)
    up.add_argument("--api-port", type=int, default=None)
    up.add_argument("--samples", default="samples/manifests")
    up.add_argument("--keep-instance", action="store_true", help=KEEP_INSTANCE_HELP)
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
    dagster.add_argument(
        "--keep-instance", action="store_true", help=KEEP_INSTANCE_HELP
    )
    dagster.set_defaults(func=cmd_dagster)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        command: Callable[[argparse.Namespace], int] = args.func
        return command(args)
    except (SettingsError, SmartcropError, EmbeddedDatabaseError) as exc:
        print(f"smartcrop: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
