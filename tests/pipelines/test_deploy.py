"""The production shape: deploy/dagster.yaml on a real PostgreSQL, and compose.yaml.

The instance test builds a Dagster instance from the production YAML exactly as a
container would (DAGSTER_HOME holding that file, connection from environment
variables) against a database of the test's own PostgreSQL server, and runs the
ingestion and export jobs on it.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from dagster import DagsterInstance, DagsterRunStatus
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.run_storage import PostgresRunStorage
from dagster_postgres.schedule_storage import PostgresScheduleStorage
from sqlalchemy import make_url

from pipelines.definitions import build_definitions
from pipelines.runner import ingest_paths
from smartcrop.db import libpq_url
from tests.support.export_setup import add_image
from tests.support.manifest_samples import SAMPLES
from tests.support.topology import dagster_pg_env

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = REPO_ROOT / "deploy"
DAGSTER_SERVICES = ("dagster-code", "dagster-webserver", "dagster-daemon")
SMARTCROP_SERVICES = ("migrate", "api", *DAGSTER_SERVICES)


@pytest.fixture
def dagster_db(pg_server) -> Iterator[str]:
    """An empty database for Dagster's storage on the test's PostgreSQL server."""
    name = pg_server.create_database()
    yield pg_server.url_for(name)
    pg_server.drop_database(name)


def point_env_at(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The DAGSTER_PG_* variables deploy/dagster.yaml reads, for this database (a
    Unix socket's folder in PGHOST: tests/support/topology.py)."""
    for name, value in dagster_pg_env(url, max_concurrent_runs=3).items():
        monkeypatch.setenv(name, value)


def test_the_production_instance_runs_ingestion_and_exports_on_postgres(
    pipeline, dagster_db: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home = tmp_path / "production_dagster_home"
    home.mkdir()
    shutil.copyfile(DEPLOY / "dagster.yaml", home / "dagster.yaml")
    point_env_at(dagster_db, monkeypatch)
    config_path = str(pipeline.config_path)

    instance = DagsterInstance.from_config(str(home))
    try:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        coordinator = instance.run_coordinator
        assert isinstance(coordinator, QueuedRunCoordinator)
        assert coordinator.get_run_queue_config().max_concurrent_runs == 3

        ingested = ingest_paths(
            [SAMPLES / "EMAIL_20261120.xlsx"],
            instance=instance,
            database_url=pipeline.db_url,
            config_path=config_path,
        )
        assert ingested["files"]["EMAIL_20261120.xlsx"]["status"] == "ingested"
        add_image(pipeline.db_url, program_id="SH1")
        defs = build_definitions(pipeline.db_url, config_path)
        exported = defs.resolve_job_def("nightly_manifest_job").execute_in_process(
            instance=instance
        )
        dumped = defs.resolve_job_def("dump_snapshots_job").execute_in_process(
            instance=instance,
            run_config={"ops": {"dump_snapshots": {"config": {"date_range": 1}}}},
        )
        assert exported.success and dumped.success

        runs = instance.get_runs()
        assert {run.job_name for run in runs} == {
            "ingest_manifest",
            "nightly_manifest_job",
            "dump_snapshots_job",
        }
        assert {run.status for run in runs} == {DagsterRunStatus.SUCCESS}
    finally:
        instance.dispose()

    # The runs and their events are rows in PostgreSQL, not files in DAGSTER_HOME.
    with psycopg.connect(libpq_url(dagster_db)) as conn:
        stored = conn.execute("SELECT run_id FROM runs").fetchall()
        events = conn.execute("SELECT count(*) FROM event_logs").fetchone()
    assert {row[0] for row in stored} == {run.run_id for run in runs}
    assert events is not None and events[0] > 0
    assert exported.run_id in {row[0] for row in stored}


# --- deploy/compose.yaml ----------------------------------------------------------


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def env_vars_read_by(path: Path) -> set[str]:
    """Every ``env: NAME`` in a Dagster YAML file."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if set(node) == {"env"}:
                found.add(node["env"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(yaml.safe_load(path.read_text()))
    return found


def _docker_compose_available() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    probe = subprocess.run(
        [docker, "compose", "version"], capture_output=True, text=True, timeout=30
    )
    return probe.returncode == 0


@pytest.mark.skipif(
    not _docker_compose_available(), reason="no `docker compose` plugin here"
)
def test_docker_compose_accepts_the_file() -> None:
    result = subprocess.run(
        ["docker", "compose", "-f", str(DEPLOY / "compose.yaml"), "config", "-q"],
        env={**os.environ, "POSTGRES_PASSWORD": "pw", "SMARTCROP_JWT_SECRET": "s" * 48},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


# Where `docker compose config` cannot run (no compose plugin on this machine), the
# checks below read the file as compose would: YAML merge keys (<<) are resolved by
# the YAML loader itself, so each service shows the settings it really gets.


def test_compose_has_every_service_on_one_image() -> None:
    services = compose()["services"]
    assert set(services) == {"postgres", *SMARTCROP_SERVICES}
    images = {services[name]["image"] for name in SMARTCROP_SERVICES}
    builds = {
        (services[name]["build"]["context"], services[name]["build"]["dockerfile"])
        for name in SMARTCROP_SERVICES
    }
    assert len(images) == 1 and builds == {("..", "deploy/Dockerfile")}
    assert (DEPLOY / ".." / "deploy" / "Dockerfile").is_file()


def test_compose_environment_feeds_the_production_instance() -> None:
    services = compose()["services"]
    needed = env_vars_read_by(DEPLOY / "dagster.yaml")
    assert {"DAGSTER_PG_HOST", "DAGSTER_PG_DB", "DAGSTER_PG_PASSWORD"} <= needed
    postgres = services["postgres"]["environment"]
    for name in SMARTCROP_SERVICES:
        env = services[name]["environment"]
        missing = needed - set(env)
        assert not missing, f"{name} lacks {missing}"
        # The API launches runs on the same instance as the daemon: same storage.
        assert env["DAGSTER_PG_HOST"] == "postgres"
        assert env["DAGSTER_PG_USERNAME"] == postgres["POSTGRES_USER"]
        assert env["DAGSTER_PG_PASSWORD"] == postgres["POSTGRES_PASSWORD"]
        url = env["DATABASE__URL"].replace(
            "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}", "pw"
        )
        parsed = make_url(url)
        assert (parsed.host, parsed.username, parsed.database) == (
            "postgres",
            postgres["POSTGRES_USER"],
            postgres["POSTGRES_DB"],
        )
        # deployment_config.server=aws refuses to start without a JWT secret.
        assert env["SMARTCROP_SERVICE__AUTH__JWT_SECRET"].startswith(
            "${SMARTCROP_JWT_SECRET:?"
        )
    # The Dagster database is the one the init script creates.
    init = (DEPLOY / "postgres-init.sql").read_text()
    dagster_db = services["api"]["environment"]["DAGSTER_PG_DB"]
    assert f"CREATE DATABASE {dagster_db} " in init
    mounts = services["postgres"]["volumes"]
    assert "./postgres-init.sql:/docker-entrypoint-initdb.d/10-dagster.sql:ro" in mounts


def test_compose_commands_fit_the_image_and_the_workspace() -> None:
    services = compose()["services"]
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    home = re.search(r"DAGSTER_HOME=(\S+)", dockerfile)
    assert home is not None
    assert f"COPY deploy/dagster.yaml {home.group(1)}/dagster.yaml" in dockerfile
    assert "COPY deploy/workspace.yaml /opt/dagster/workspace.yaml" in dockerfile
    for source in re.findall(r"^COPY (\S+) ", dockerfile, flags=re.M):
        assert (REPO_ROOT / source).exists(), f"Dockerfile copies missing {source}"

    # The webserver and the daemon load the workspace that names the code server.
    workspace = yaml.safe_load((DEPLOY / "workspace.yaml").read_text())
    [location] = workspace["load_from"]
    grpc = location["grpc_server"]
    code = services["dagster-code"]["command"]
    assert grpc["host"] == "dagster-code"
    assert code[code.index("--port") + 1] == str(grpc["port"])
    assert code[code.index("--module-name") + 1] == "pipelines.definitions"
    for name in ("dagster-webserver", "dagster-daemon"):
        command = services[name]["command"]
        assert command[command.index("-w") + 1] == "/opt/dagster/workspace.yaml"
        assert "dagster-code" in services[name]["depends_on"]

    # Every command is a program the image installs (the same project, same pins).
    bin_dir = Path(sys.executable).parent
    for name in SMARTCROP_SERVICES:
        program = services[name]["command"][0]
        assert (bin_dir / program).exists(), f"{name}: no {program} in the image"
    api = services["api"]["command"]
    assert shlex.join(api[:2]) == "smartcrop api"
    assert api[api.index("--port") + 1] == "8000"
    assert "8000:8000" in services["api"]["ports"]
    assert "3000:3000" in services["dagster-webserver"]["ports"]


def test_migrations_run_once_before_the_services() -> None:
    services = compose()["services"]
    assert services["migrate"]["command"] == ["smartcrop", "migrate"]
    for name in ("api", "dagster-code"):
        condition = services[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully"


def test_the_workspace_loads_the_same_code_location_as_the_local_one() -> None:
    local = yaml.safe_load((REPO_ROOT / "workspace.yaml").read_text())
    deployed = yaml.safe_load((DEPLOY / "workspace.yaml").read_text())
    [here] = local["load_from"]
    [there] = deployed["load_from"]
    assert (
        here["python_module"]["location_name"] == there["grpc_server"]["location_name"]
    )
    command = compose()["services"]["dagster-code"]["command"]
    assert (
        command[command.index("--attribute") + 1] == here["python_module"]["attribute"]
    )
