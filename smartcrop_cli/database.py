"""Commands on the database: migrate, db-upgrade, recount, db-url, create-admin."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from smartcrop.errors import SmartcropError
from smartcrop_cli.startup import database_url, load_settings, ready_database


def cmd_migrate(args: argparse.Namespace) -> int:
    ready_database(load_settings())
    print("database migrated to the latest revision")
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    settings = load_settings()
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
    settings = load_settings()
    from smartcrop.db import session_scope  # noqa: PLC0415
    from smartcrop.reporting.counts import recount  # noqa: PLC0415

    url = ready_database(settings)
    with session_scope(url) as session:
        done = recount(session)
    print(
        f"counts rebuilt: {done.work_items} work items, "
        f"{done.renditions} renditions in the report"
    )
    return 0


def cmd_db_url(args: argparse.Namespace) -> int:
    settings = load_settings()
    from smartcrop.db import libpq_url  # noqa: PLC0415

    url = database_url(settings)
    print(url if args.sqlalchemy else libpq_url(url))
    return 0


def read_new_password() -> str:
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
    settings = load_settings()
    from smartcrop.db import session_scope  # noqa: PLC0415
    from smartcrop.identity.users import create_user  # noqa: PLC0415

    password = read_new_password()
    url = ready_database(settings)
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
