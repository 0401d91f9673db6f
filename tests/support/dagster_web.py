"""A real Dagster webserver serving the project's code location, for the tests of the
endpoints that submit runs to it (contract 4.9).

One webserver per test session (per pytest-xdist worker: its start loads the code
location, seconds, and the endpoint tests are spread over three modules), on a
DAGSTER_HOME of its own with the default run coordinator, so a submitted run is
launched at once by the webserver without a daemon (the queue and the daemon are the
topology test's). The code location and every run worker read the settings file named
by SMARTCROP_CONFIG when they start; each test writes its own settings (its database,
its folders) into that one file before it calls the API, so a run works on the test's
database although the webserver outlives the test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from dagster import DagsterInstance
from fastapi.testclient import TestClient

from api.app import create_app
from tests.support.pipelines import Pipeline, configure_for_test
from tests.support.processes import stop_process
from tests.support.s3_server import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 120.0

# No daemon here: runs are launched by the webserver as they are submitted (the
# default coordinator queues them for a daemon to start, and a daemon would also run
# the sensors, which would race the download endpoints for the tests' files).
INSTANCE_YAML = """\
telemetry:
  enabled: false
run_coordinator:
  module: dagster._core.run_coordinator
  class: DefaultRunCoordinator
"""

LOCATION_QUERY = """
{ workspaceOrError { ... on Workspace { locationEntries {
    name loadStatus locationOrLoadError { __typename } } } } }
"""


@dataclass
class DagsterWeb:
    home: Path
    config_path: Path
    graphql_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _location_loaded(graphql_url: str) -> bool:
    try:
        response = httpx.post(graphql_url, json={"query": LOCATION_QUERY}, timeout=5)
        entries = response.json()["data"]["workspaceOrError"]["locationEntries"]
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return False
    return any(
        entry["loadStatus"] == "LOADED"
        and entry["locationOrLoadError"]["__typename"] == "RepositoryLocation"
        for entry in entries
    )


def start_webserver(folder: Path, base_config: Path) -> DagsterWeb:
    home = folder / "dagster_home"
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text(INSTANCE_YAML)
    config_path = folder / "smartcrop.yml"
    shutil.copyfile(base_config, config_path)
    port = free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "SMARTCROP_CONFIG": str(config_path),
    }
    env.pop("DATABASE__URL", None)  # the settings file names the test's database
    log_path = folder / "webserver.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own fixed command
            [
                str(Path(sys.executable).parent / "dagster-webserver"),
                "-w",
                str(REPO_ROOT / "workspace.yaml"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    web = DagsterWeb(
        home, config_path, f"http://127.0.0.1:{port}/graphql", process, log_path
    )
    deadline = time.monotonic() + START_TIMEOUT
    while not _location_loaded(web.graphql_url):
        if process.poll() is not None or time.monotonic() > deadline:
            stop(web)
            raise RuntimeError(f"the Dagster webserver did not start:\n{web.log()}")
        time.sleep(0.5)
    return web


def stop(web: DagsterWeb) -> None:
    stop_process(web.process)


@pytest.fixture(scope="session")
def dagster_web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagsterWeb]:
    web = start_webserver(
        tmp_path_factory.mktemp("dagster_web"),
        Path(os.environ["SMARTCROP_CONFIG"]),
    )
    yield web
    stop(web)


@pytest.fixture
def web_pipeline(
    dagster_web: DagsterWeb, db_url: str, tmp_path: Path
) -> Iterator[Pipeline]:
    """The ``pipeline`` of a test whose runs the webserver launches: the test's
    settings in the file the code location reads, the webserver's instance, and the
    settings' ``graphql_url`` pointing at it."""
    instance = DagsterInstance.from_config(str(dagster_web.home))
    p = Pipeline(
        tmp=tmp_path,
        db_url=db_url,
        instance=instance,
        config_file=dagster_web.config_path,
    )
    configure_for_test(p)
    service = p.config["smartcrop_service"]
    service["dagster"] = {"graphql_url": dagster_web.graphql_url, "wait_seconds": 90}
    p.configure(smartcrop_service=service)
    try:
        yield p
    finally:
        instance.dispose()


@pytest.fixture
def web_client(web_pipeline: Pipeline) -> Iterator[TestClient]:
    """A client of an app whose file-pipeline endpoints submit to the webserver and
    read its instance; it follows the settings the test configures afterwards."""
    app = create_app(web_pipeline.settings, web_pipeline.db_url)
    app.state.dagster_instance = web_pipeline.instance
    web_pipeline.on_configure.append(
        lambda: setattr(app.state, "settings", web_pipeline.settings)
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
