"""The production topology as real processes, for the tests that run it.

``smartcrop dagster --keep-instance`` (a code server, the webserver and the daemon, on
a DAGSTER_HOME holding deploy/dagster.yaml with PostgreSQL storage) and any number of
``smartcrop api --workers N``, each started as ``python -m smartcrop_cli`` from this
checkout in a session of its own, its output in a log file. A session holds every
process the command starts (the supervisor's children are in groups of their own, but
in its session), so stopping or killing a service reaches all of them, run workers
and uvicorn workers included.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from dagster import DagsterInstance
from sqlalchemy import make_url

from smartcrop_cli.services import location_loaded
from tests.support.s3_server import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
SMARTCROP = [sys.executable, "-m", "smartcrop_cli"]
START_TIMEOUT = 180.0
STOP_GRACE = 15.0
# The daemons a deployment needs before it takes work: sensors and the run queue.
NEEDED_DAEMONS = ("SENSOR", "QUEUED_RUN_COORDINATOR", "MONITORING")
LOCATION = "smartcrop"  # smartcrop_service.dagster.code_location

T = TypeVar("T")


def wait_for(
    probe: Callable[[], T],
    timeout: float,
    what: str,
    context: Callable[[], str] = lambda: "",
    interval: float = 0.2,
) -> T:
    """``probe()`` once it is truthy; an AssertionError naming ``what`` (and whatever
    ``context`` tells, e.g. the logs) after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {timeout:.0f} s\n{context()}")
        time.sleep(interval)


def dagster_pg_env(url: str, max_concurrent_runs: int = 3) -> dict[str, str]:
    """The variables deploy/dagster.yaml reads, for the database at ``url``.

    The embedded server listens on a Unix socket only: then the host stays empty and
    libpq finds the socket folder in PGHOST, as deploy/dagster.yaml documents.
    """
    parsed = make_url(url)
    socket_dir = parsed.query.get("host")
    env = {
        "DAGSTER_PG_USERNAME": parsed.username or "",
        "DAGSTER_PG_PASSWORD": parsed.password or "",
        "DAGSTER_PG_DB": parsed.database or "",
        "DAGSTER_PG_PORT": str(parsed.port or 5432),
        "DAGSTER_MAX_CONCURRENT_RUNS": str(max_concurrent_runs),
        "DAGSTER_PG_HOST": "" if socket_dir else (parsed.host or ""),
    }
    if socket_dir:
        env["PGHOST"] = str(socket_dir)
    return env


# --- processes --------------------------------------------------------------------


def _sessions() -> dict[int, int]:
    """pid -> session id of every live process (Linux /proc)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if stat[0] not in ("Z", "X"):
            found[int(entry.name)] = int(stat[3])
    return found


def command_line(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


@dataclass
class Service:
    """A ``smartcrop`` command started by a test, in a session of its own."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def sid(self) -> int:
        return self.process.pid  # start_new_session: the leader's pid names it

    def pids(self) -> set[int]:
        """Every live process of the service (the command and all it started)."""
        return {pid for pid, sid in _sessions().items() if sid == self.sid}

    def output(self, tail: int = 6000) -> str:
        text = self.log_path.read_text(errors="replace")
        return f"--- {self.name} ({self.log_path}) ---\n{text[-tail:]}"

    def kill(self) -> None:
        """SIGKILL to every process of the service at once, as when its container
        or machine is lost; returns once they are all gone."""
        for _ in range(50):
            pids = self.pids()
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.1)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM to the command (the supervisor stops its children in order), then
        SIGKILL to whatever of the session is left after the grace."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        while self.pids() and time.monotonic() < deadline:
            time.sleep(0.2)
        self.kill()


def start_service(
    name: str, args: list[str], env: dict[str, str], folder: Path
) -> Service:
    log_path = folder / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own fixed command
            [*SMARTCROP, *args],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Service(name, process, log_path)


# --- the deployment ---------------------------------------------------------------


@dataclass
class Api:
    service: Service
    base_url: str


@dataclass
class Topology:
    """A running deployment: the Dagster processes, the API processes, the instance
    they share (opened in the test's process too) and the settings file."""

    home: Path
    config_path: Path
    instance: DagsterInstance
    dagster: Service
    apis: list[Api]
    graphql_url: str
    services: list[Service] = field(default_factory=list)

    def logs(self) -> str:
        return "\n".join(service.output() for service in self.services)

    def run_worker_pid(self, run_id: str) -> int | None:
        """The pid of a run's process, from the code server's engine event, when it
        is a process of this deployment's Dagster service."""
        for entry in self.instance.all_logs(run_id):
            found = re.search(r"Started process for run \(pid: (\d+)\)", entry.message)
            if found and int(found[1]) in self.dagster.pids():
                return int(found[1])
        return None


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _daemons_running(instance: DagsterInstance) -> bool:
    beats = instance.get_daemon_heartbeats()
    return all(kind in beats for kind in NEEDED_DAEMONS)


@contextmanager
def production_topology(
    folder: Path,
    config: dict[str, Any],
    dagster_db_url: str,
    *,
    apis: int = 2,
    api_workers: int = 2,
    api_env: dict[str, str] | None = None,
    max_concurrent_runs: int = 3,
) -> Iterator[Topology]:
    """deploy/dagster.yaml in a DAGSTER_HOME on ``dagster_db_url``; ``smartcrop dagster
    --keep-instance`` and ``apis`` x ``smartcrop api --workers api_workers`` on the
    settings ``config`` (its ``smartcrop_service.dagster.graphql_url`` is set here).
    Yields once the webserver has the code location, the daemons beat and every API
    answers /health; every process is gone when the block ends, whatever happened.
    """
    import yaml  # noqa: PLC0415

    home = folder / "dagster_home"
    home.mkdir(parents=True)
    shutil.copyfile(REPO_ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    dagster_port = free_port()
    graphql_url = f"http://127.0.0.1:{dagster_port}/graphql"
    service = dict(config.get("smartcrop_service", {}))
    service["dagster"] = {**service.get("dagster", {}), "graphql_url": graphql_url}
    config = {**config, "smartcrop_service": service}
    config_path = folder / "smartcrop.yml"
    config_path.write_text(yaml.safe_dump(config))
    pg_env = dagster_pg_env(dagster_db_url, max_concurrent_runs)
    python_path = os.pathsep.join(
        p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p
    )
    env = {
        **os.environ,
        **pg_env,
        # This checkout's code first, whatever else is installed.
        "PYTHONPATH": python_path,
        "PYTHONUNBUFFERED": "1",
        "DAGSTER_HOME": str(home),
        "SMARTCROP_CONFIG": str(config_path),
    }
    env.pop("DATABASE__URL", None)  # the settings file names the database

    # The test's own view of the instance reads the same variables.
    saved = {name: os.environ.get(name) for name in pg_env}
    os.environ.update(pg_env)
    started: list[Service] = []
    instance: DagsterInstance | None = None
    try:
        dagster = start_service(
            "dagster",
            ["dagster", "--port", str(dagster_port), "--keep-instance"],
            env,
            folder,
        )
        started.append(dagster)
        servers = []
        for n in range(apis):
            port = free_port()
            api = start_service(
                f"api{n + 1}",
                ["api", "--host", "127.0.0.1", "--port", str(port)]
                + ["--workers", str(api_workers)],
                {**env, **(api_env or {})},
                folder,
            )
            started.append(api)
            servers.append(Api(api, f"http://127.0.0.1:{port}"))
        instance = DagsterInstance.from_config(str(home))
        topology = Topology(
            home, config_path, instance, dagster, servers, graphql_url, started
        )

        def exited() -> str:
            gone = [s.name for s in started if s.process.poll() is not None]
            return f"exited: {gone}\n{topology.logs()}" if gone else topology.logs()

        def ready() -> bool:
            if any(s.process.poll() is not None for s in started):
                raise AssertionError(f"a service exited while starting\n{exited()}")
            return (
                all(_answers(f"{api.base_url}/health") for api in servers)
                and location_loaded(graphql_url, LOCATION)()
                and _daemons_running(topology.instance)
            )

        wait_for(ready, START_TIMEOUT, "the deployment ready", exited, interval=0.5)
        yield topology
    finally:
        for service_ in reversed(started):
            service_.stop()
        if instance is not None:
            instance.dispose()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
