"""No configured secret, and no user's password or token, ever reaches a log line or
Dagster's run storage, even at DEBUG (contract 8: "no secret is ever logged").

Two real processes are read: ``smartcrop api`` (uvicorn, SMARTCROP_LOG_LEVEL=DEBUG)
driven over HTTP through logins, failed logins, password changes and the file
pipelines (SFTP with a good and a wrong password, S3, an SFTP export); and the
sensors and ingestion runs in process with every logger at DEBUG (no redaction
filter there: the Dagster daemon installs none, so nothing may be logged at all).
"""

from __future__ import annotations

import base64
import logging
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import make_url

from smartcrop.db import libpq_url
from tests.support import corpus
from tests.support.api_process import SMARTCROP, api_process, write_config
from tests.support.s3_server import ACCESS_KEY, SECRET_KEY

JWT_SECRET = "jwt-signing-secret-do-not-log-0123456789abcdef"
DB_PASSWORD = "db-password-do-not-log-42"
WRONG_SFTP_PASSWORD = "wrong-sftp-password-do-not-log"
EXPORT_PASSWORD = "export-sftp-password-do-not-log"
ADMIN_PASSWORD = "admin-password-do-not-log"
USER_PASSWORD = "user-password-do-not-log"
NEW_PASSWORD = "changed-password-do-not-log"
TYPO_PASSWORD = "typo-password-do-not-log"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _leaks(text: str, secrets: dict[str, str]) -> list[str]:
    return [name for name, value in secrets.items() if value and value in text]


def _storage_leaks(folder: Path, secrets: dict[str, str]) -> list[str]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [
                f"{name} in {path.relative_to(folder)}"
                for name, value in secrets.items()
                if value.encode() in data
            ]
    return found


@pytest.fixture
def db_url_with_password(db_url: str, pg_server) -> Iterator[str]:
    """The test database reached as a role with a password (the embedded server
    trusts local sockets, so the password is only carried, as in production)."""
    role = f"secret_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq_url(pg_server.admin_url), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN SUPERUSER PASSWORD '{DB_PASSWORD}'")
    url = make_url(db_url).set(username=role, password=DB_PASSWORD)
    yield url.render_as_string(hide_password=False)
    pg_server.drop_database(make_url(db_url).database)  # before the role goes
    with psycopg.connect(libpq_url(pg_server.admin_url), autocommit=True) as conn:
        conn.execute(f"DROP ROLE IF EXISTS {role}")


def _sources(sftp_server, s3_server: str, bucket: str) -> dict:
    return {
        "aws_config": {"access_key_id": ACCESS_KEY, "secret_access_key": SECRET_KEY},
        "filewatcher": {
            "s3_sources": [
                {"bucket": bucket, "prefix": "in/", "endpoint_url": s3_server}
            ],
            "sftp_sources": [
                {
                    "host": sftp_server.host,
                    "port": sftp_server.port,
                    "directory": "/outbound",
                    "credentials": {
                        "username": sftp_server.username,
                        "password": sftp_server.password,
                    },
                },
                {
                    "host": sftp_server.host,
                    "port": sftp_server.port,
                    "directory": "/other",
                    "credentials": {
                        "username_b64": _b64(sftp_server.username),
                        "password_b64": _b64(WRONG_SFTP_PASSWORD),
                    },
                },
            ],
        },
    }


def _all_secrets(sftp_server) -> dict[str, str]:
    return {
        "jwt secret": JWT_SECRET,
        "database password": DB_PASSWORD,
        "aws secret": SECRET_KEY,
        "sftp password": sftp_server.password,
        "sftp password (base64)": _b64(sftp_server.password),
        "wrong sftp password": WRONG_SFTP_PASSWORD,
        "wrong sftp password (base64)": _b64(WRONG_SFTP_PASSWORD),
        "export password": EXPORT_PASSWORD,
        "export password (base64)": _b64(EXPORT_PASSWORD),
    }


def test_the_api_process_logs_no_secret_at_debug(
    db_url_with_password: str,
    tmp_path: Path,
    sftp_server,
    s3_server,
    s3_bucket,
    dagster_web,
) -> None:
    client, bucket = s3_bucket
    client.put_object(Bucket=bucket, Key="in/NBCU_s3.xlsx", Body=corpus.good("SH1L"))
    sftp_server.path("/outbound").mkdir(parents=True)
    sftp_server.path("/other").mkdir(parents=True)
    sftp_server.path("/outbound/NBCU_sftp.xlsx").write_bytes(corpus.good("SH2L"))
    # The settings file the webserver's runs read too: they work on this database.
    config = write_config(
        dagster_web.config_path,
        tmp_path,
        database={"url": db_url_with_password},
        smartcrop_service={
            "storage": {"local_root": str(tmp_path / "renditions")},
            "auth": {"secret_file": str(tmp_path / "jwt_secret")},
            "dagster": {"graphql_url": dagster_web.graphql_url},
        },
        **_sources(sftp_server, s3_server, bucket),
        smartcrop_ftp_config={
            "host": sftp_server.host,
            "ports": {"output": sftp_server.port, "audit": sftp_server.port},
            "credentials": {
                "username_b64": _b64(sftp_server.username),
                "password_b64": _b64(EXPORT_PASSWORD),
            },
        },
        smartcrop_filewatcher_batchjob={
            "output_dir": str(tmp_path / "outbound"),
            "targets": ["sftp"],
        },
    )
    env = {
        "SMARTCROP_LOG_LEVEL": "DEBUG",
        "SMARTCROP_SERVICE__AUTH__JWT_SECRET": JWT_SECRET,
        "DAGSTER_HOME": str(dagster_web.home),
    }
    created = subprocess.run(
        [SMARTCROP, "create-admin", "--email", "root@example.com", "--name", "Root"],
        env={
            **os.environ,
            **env,
            "DATABASE__URL": db_url_with_password,
            "SMARTCROP_CONFIG": str(config),
            "SMARTCROP_ADMIN_PASSWORD": ADMIN_PASSWORD,
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert created.returncode == 0, created.stderr
    secrets = _all_secrets(sftp_server) | {
        "admin password": ADMIN_PASSWORD,
        "user password": USER_PASSWORD,
        "new password": NEW_PASSWORD,
        "mistyped password": TYPO_PASSWORD,
    }
    assert not _leaks(created.stdout + created.stderr, secrets)

    with api_process(config, db_url_with_password, tmp_path / "api.log", env) as api:
        http = httpx.Client(base_url=api.base_url, timeout=120)
        root = {"EmailID": "root@example.com", "Password": ADMIN_PASSWORD}
        token = http.post("/user/Login", json=root).json()["Data"]["Token"]
        admin = {"Authorization": f"Bearer {token}"}
        assert http.post(
            "/user/Register",
            json={
                "UserName": "Una",
                "EmailID": "una@example.com",
                "Password": USER_PASSWORD,
                "RoleName": "operator",
            },
            headers=admin,
        ).is_success
        typo = {"EmailID": "una@example.com", "Password": TYPO_PASSWORD}
        assert http.post("/user/Login", json=typo).status_code == 401
        mine = {"EmailID": "una@example.com", "Password": USER_PASSWORD}
        una = http.post("/user/Login", json=mine).json()["Data"]["Token"]
        assert http.post(
            "/user/UpdatePassword",
            json={
                "EmailID": "una@example.com",
                "OldPassword": USER_PASSWORD,
                "NewPassword": NEW_PASSWORD,
            },
            headers={"Authorization": f"Bearer {una}"},
        ).is_success
        # Refused tokens, a token in a query string, a malformed body.
        http.get("/user/UserList", headers={"Authorization": f"Bearer {una}"})
        http.get("/user/UserList", params={"token": token})
        http.post("/user/Login", content=b'{"EmailID": "x", "Password": "' + b"p" * 10)
        sftp = http.post("/filewatcher/download-sftp", headers=admin).json()
        assert sftp["status"] == "success", sftp
        s3 = http.post("/filewatcher/download-s3", headers=admin).json()
        assert s3["status"] == "success", s3
        http.post("/batchjob/run", headers=admin)  # no rows: nothing to upload
        http.close()
        log = api.output()

    # The paths that could leak really ran and logged, at DEBUG.
    for seen in ("DEBUG paramiko.transport", "DEBUG botocore", "uvicorn.access"):
        assert seen in log, seen
    assert "GET /user/UserList?token=*** HTTP/1.1" in log  # redacted, not dropped
    tokens = {"admin token": token, "user token": una}
    assert not _leaks(log, secrets | tokens), _leaks(log, secrets | tokens)
    # The runs ran in the webserver's run workers: their output and storage too.
    web_log = dagster_web.log()
    assert not _leaks(web_log, secrets | tokens), _leaks(web_log, secrets | tokens)
    assert not _storage_leaks(dagster_web.home, secrets | tokens)


def test_api_workers_log_no_secret_at_debug(
    db_url_with_password: str, tmp_path: Path, make_user
) -> None:
    """`smartcrop api --workers 2` (what compose runs): uvicorn's access and error
    lines in every worker go through the same redaction as the single process."""
    _, email, password = make_user("admin")
    config = write_config(tmp_path / "config.yml", tmp_path)
    env = {
        "SMARTCROP_LOG_LEVEL": "DEBUG",
        "SMARTCROP_SERVICE__AUTH__JWT_SECRET": JWT_SECRET,
    }
    with api_process(
        config, db_url_with_password, tmp_path / "api.log", env, workers=2
    ) as api:
        with httpx.Client(base_url=api.base_url, timeout=30) as http:
            login = {"EmailID": email, "Password": password}
            token = http.post("/user/Login", json=login).json()["Data"]["Token"]
            for _ in range(6):  # both workers answer some of them
                http.get("/user/UserList", headers={"Authorization": f"Bearer {token}"})
                http.get("/user/UserList", params={"token": token})
                http.get("/dashboard/Totals", params={"access_token": token})
        log = api.output()
    assert "uvicorn.access" in log and "GET /user/UserList" in log  # logged, at DEBUG
    assert "token=***" in log  # redacted, not dropped
    secrets = {
        "jwt secret": JWT_SECRET,
        "database password": DB_PASSWORD,
        "user password": password,
        "bearer token": token,
    }
    assert not _leaks(log, secrets), _leaks(log, secrets)
    # Two worker processes really served (uvicorn names each as it starts it).
    assert log.count("Started server process") >= 2, log[-2000:]


def test_sensors_and_runs_log_no_secret_at_debug(
    pipeline, sftp_server, s3_server, s3_bucket, caplog: pytest.LogCaptureFixture
) -> None:
    client, bucket = s3_bucket
    client.put_object(Bucket=bucket, Key="in/NBCU_s3.xlsx", Body=corpus.good("SH3L"))
    sftp_server.path("/outbound").mkdir(parents=True)
    sftp_server.path("/other").mkdir(parents=True)
    sftp_server.path("/outbound/NBCU_sftp.xlsx").write_bytes(corpus.good("SH4L"))
    sources = _sources(sftp_server, s3_server, bucket)
    pipeline.configure(
        **sources,
        smartcrop_service={
            "auth": {"jwt_secret": JWT_SECRET, "secret_file": str(pipeline.tmp / "j")}
        },
    )
    # A download breaks once and is retried; the second source's login is refused:
    # the error paths must not carry a secret either.
    sftp_server.drop_after(1, "read", times=1)
    with caplog.at_level(logging.DEBUG):
        for sensor in ("sftp_manifest_sensor", "s3_manifest_sensor"):
            result = pipeline.tick(sensor)
            assert result.run_requests
            pipeline.run(result)
    secrets = _all_secrets(sftp_server)
    text = caplog.text + "".join(
        str(record.args) + str(record.exc_info) for record in caplog.records
    )
    assert any(r.levelno == logging.DEBUG for r in caplog.records)
    assert sftp_server.failed_logins >= 1  # the wrong password was really tried
    assert not _leaks(text, secrets), _leaks(text, secrets)
    assert not _storage_leaks(pipeline.tmp / "dagster_home", secrets)
