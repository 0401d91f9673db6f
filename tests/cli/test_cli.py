"""The smartcrop command, run as a user runs it: a real process, a real database."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path
from urllib.parse import unquote

import psycopg
import pytest
from argon2 import PasswordHasher

from smartcrop.db import libpq_url
from smartcrop.errors import SmartcropError
from tests.support.cli import REPO_ROOT, run


def _head_revision() -> str:
    from alembic.script import ScriptDirectory

    from smartcrop.db.migrate import alembic_config

    return ScriptDirectory.from_config(
        alembic_config("postgresql://")
    ).get_current_head()


def test_create_admin_stores_a_slow_hash_never_the_password(
    empty_db_url: str, tmp_path: Path
) -> None:
    password = "correct horse battery"
    result = run(
        ["create-admin", "--email", "Ada@Example.com", "--name", "Ada"],
        {"DATABASE__URL": empty_db_url, "SMARTCROP_ADMIN_PASSWORD": password},
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "Ada@Example.com" in result.stdout
    assert password not in result.stdout + result.stderr
    with psycopg.connect(libpq_url(empty_db_url)) as conn:
        stored, role = conn.execute(
            "SELECT u.passwordhash, r.rolename FROM smartcrop_user u"
            " JOIN smartcrop_role r ON r.id = u.roleid"
        ).fetchone()
    assert role == "admin"
    assert stored != password and password not in stored
    assert stored.startswith("$argon2id$")
    assert PasswordHasher().verify(stored, password)


def test_create_admin_refuses_a_duplicate_and_a_short_password(
    db_url: str, tmp_path: Path
) -> None:
    env = {"DATABASE__URL": db_url, "SMARTCROP_ADMIN_PASSWORD": "long enough pw"}
    assert (
        run(
            ["create-admin", "--email", "a@x.io", "--name", "A"], env, tmp_path
        ).returncode
        == 0
    )
    again = run(["create-admin", "--email", "A@X.IO", "--name", "A"], env, tmp_path)
    assert again.returncode == 2
    assert "already exists" in again.stderr
    short = run(
        ["create-admin", "--email", "b@x.io", "--name", "B"],
        {**env, "SMARTCROP_ADMIN_PASSWORD": "short"},
        tmp_path,
    )
    assert short.returncode == 2
    assert "at least 10 characters" in short.stderr
    assert "Traceback" not in again.stderr + short.stderr


def test_create_admin_without_a_password_has_no_default(
    db_url: str, tmp_path: Path
) -> None:
    env = {"DATABASE__URL": db_url, "SMARTCROP_ADMIN_PASSWORD": ""}
    result = run(
        ["create-admin", "--email", "c@x.io", "--name", "C"], env, tmp_path, ""
    )
    assert result.returncode == 2
    assert "SMARTCROP_ADMIN_PASSWORD" in result.stderr
    with psycopg.connect(libpq_url(db_url)) as conn:
        assert conn.execute("SELECT count(*) FROM smartcrop_user").fetchone() == (0,)


def test_db_url_and_migrate_honour_the_configured_url(
    empty_db_url: str, tmp_path: Path
) -> None:
    env = {"DATABASE__URL": empty_db_url}
    printed = run(["db-url"], env, tmp_path)
    assert printed.returncode == 0
    assert printed.stdout.strip() == libpq_url(empty_db_url)
    migrated = run(["migrate"], env, tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    with psycopg.connect(libpq_url(empty_db_url)) as conn:
        version = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert version == (_head_revision(),)


def test_db_url_starts_the_embedded_server_when_none_is_configured(
    tmp_path: Path,
) -> None:
    env = {"DATABASE__URL": "", "DATABASE__EMBEDDED_DIR": str(tmp_path / "pg")}
    result = run(["db-url"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    url = unquote(result.stdout.strip())
    assert str(tmp_path / "pg") in url
    assert (tmp_path / "pg" / "PG_VERSION").exists()
    # The command was the server's only user: it stopped the server on its way out.
    assert not (tmp_path / "pg" / "postmaster.pid").exists()


def test_a_bad_setting_is_one_clear_line_not_a_traceback(tmp_path: Path) -> None:
    result = run(
        ["db-url"], {"SMARTCROP_SERVICE__LOCK_TIMEOUT_MINUTES": "later"}, tmp_path
    )
    assert result.returncode == 2
    assert "smartcrop_service.lock_timeout_minutes" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_secret_in_the_database_url_is_not_logged(tmp_path: Path) -> None:
    # An unreachable server with a password in its URL: the error must not show it.
    url = "postgresql://smartcrop:Sup3rSecretPw@127.0.0.1:1/smartcrop"
    result = run(["migrate"], {"DATABASE__URL": url}, tmp_path)
    assert result.returncode != 0
    assert "Sup3rSecretPw" not in result.stdout + result.stderr


def test_the_smartcrop_script_is_the_cli_package() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    target = pyproject["project"]["scripts"]["smartcrop"]
    assert target == "smartcrop_cli.main:main"
    module, _, name = target.partition(":")
    assert callable(getattr(importlib.import_module(module), name))
    assert (
        "smartcrop_cli*"
        in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    )


def test_every_command_and_flag_is_kept(tmp_path: Path) -> None:
    result = run(["--help"], {}, tmp_path)
    assert result.returncode == 0, result.stderr
    commands = "up migrate db-upgrade recount db-url create-admin api ingest dagster"
    for command in commands.split():
        assert command in result.stdout
    flags = {
        "up": [
            "--host",
            "--dagster-port",
            "--api-port",
            "--samples",
            "--keep-instance",
        ],
        "db-url": ["--sqlalchemy"],
        "create-admin": ["--email", "--name"],
        "api": ["--host", "--port", "--workers"],
        "dagster": ["--host", "--port", "--keep-instance"],
    }
    for command, expected in flags.items():
        shown = run([command, "--help"], {}, tmp_path).stdout
        for flag in expected:
            assert flag in shown, (command, flag)


def test_keep_instance_uses_the_dagster_yaml_already_in_dagster_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings_for
) -> None:
    from smartcrop_cli.dagster_home import dagster_home

    home = tmp_path / "production_home"
    home.mkdir()
    production = "# the production instance (deploy/dagster.yaml)\n"
    (home / "dagster.yaml").write_text(production)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.chdir(REPO_ROOT)  # where the repository's dagster.yaml is
    settings = settings_for()

    assert dagster_home(settings, keep_instance=True) == home.resolve()
    assert (home / "dagster.yaml").read_text() == production
    # Without the flag the repository's copy replaces it, as `smartcrop up` does.
    dagster_home(settings)
    assert (home / "dagster.yaml").read_bytes() == (
        REPO_ROOT / "dagster.yaml"
    ).read_bytes()

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "nothing_here"))
    with pytest.raises(SmartcropError, match="has no dagster.yaml to keep"):
        dagster_home(settings, keep_instance=True)
