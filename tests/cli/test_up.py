"""`smartcrop up` and `smartcrop dagster` as a user runs them: real processes.

They run the production topology on one machine: one Dagster code server that the
webserver and the daemon both load the code location from, the daemon, the webserver
and (for `up`) the API, each child's lines prefixed with its name, all stopped at once
when one of them dies.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import yaml

from tests.support.s3_server import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
SMARTCROP = [sys.executable, "-m", "smartcrop_cli"]
# `HH:MM:SS name | text`, the name padded to the longest.
PREFIXED = re.compile(r"^\d\d:\d\d:\d\d (?P<name>[a-z-]+) +\| ")
CHILDREN = {"dagster-code", "dagster-daemon", "dagster-webserver", "api"}


class Running:
    """A `smartcrop` command in the background, its output collected line by line."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [*SMARTCROP, *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self.seen: set[int] = set()  # every process of its tree ever seen
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def output(self) -> str:
        with self._changed:
            return "\n".join(self.lines)

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        """The first output line matching ``pattern``; fails on timeout or exit."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        with self._changed:
            while True:
                for line in self.lines:
                    if found := regex.search(line):
                        return found
                left = deadline - time.monotonic()
                if left <= 0 or self.process.poll() is not None:
                    tail = "\n".join(self.lines[-60:])
                    raise AssertionError(f"no line matching {pattern!r}:\n{tail}")
                self._changed.wait(min(left, 0.5))

    def tree(self) -> dict[int, list[str]]:
        found = descendants(self.process.pid)
        self.seen.update(found)
        return found

    def stop(self, timeout: float = 30) -> int:
        """Ctrl-C, as in a terminal; the exit status (killed after ``timeout``)."""
        self.tree()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            for pid in self.seen | {self.process.pid}:
                kill_quietly(pid)
            self.process.wait()
            raise


def processes() -> dict[int, tuple[int, list[str]]]:
    """pid -> (parent pid, command line) of every live process (Linux /proc)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError):
            continue
        if stat[0] in ("Z", "X"):
            continue
        table[int(entry.name)] = (int(stat[1]), [p.decode() for p in cmdline if p])
    return table


def descendants(root: int) -> dict[int, list[str]]:
    table = processes()
    found: dict[int, list[str]] = {}
    parents = {root}
    while parents:
        children = {pid for pid, (ppid, _) in table.items() if ppid in parents}
        found.update({pid: table[pid][1] for pid in children})
        parents = children - parents
    return found


def ancestors(pid: int) -> set[int]:
    table = processes()
    chain: set[int] = set()
    while pid in table and pid not in chain:
        chain.add(pid)
        pid = table[pid][0]
    return chain


def alive(pids: set[int]) -> set[int]:
    return pids & set(processes())


def kill_quietly(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def running_program(tree: dict[int, list[str]], *words: str) -> list[int]:
    """The processes whose command line holds every word, in order of their pids."""
    return sorted(pid for pid, cmd in tree.items() if all(w in cmd for w in words))


def smartcrop_env(db_url: str) -> dict[str, str]:
    """This checkout first on the import path, the test's database, no DAGSTER_HOME.

    With the working directory a temporary folder, every `.smartcrop/...` default
    (staging, work, the Dagster home) lands in it.
    """
    path = os.pathsep.join(
        p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p
    )
    env = {**os.environ, "PYTHONPATH": path, "DATABASE__URL": db_url}
    env.pop("DAGSTER_HOME", None)
    return env


def workspace_location(graphql_url: str) -> dict:
    query = (
        "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus"
        " displayMetadata { key value } locationOrLoadError { __typename } } } } }"
    )
    body = httpx.post(graphql_url, json={"query": query}, timeout=10).json()
    [entry] = body["data"]["workspaceOrError"]["locationEntries"]
    return entry


def _the_api_fetches_its_own_demo_images_and_no_other_loopback(
    db_url: str, api_port: int
) -> None:
    """`smartcrop up` allows the API's own address in the fetch policy (the demo's
    images are served by the API) and nothing else on loopback."""
    from sqlalchemy.orm import Session  # noqa: PLC0415

    from smartcrop.identity.users import create_user  # noqa: PLC0415
    from tests.support.work_items import add_item, engine_for  # noqa: PLC0415

    api = f"http://127.0.0.1:{api_port}"
    with engine_for(db_url) as engine:
        with Session(engine) as session, session.begin():
            create_user(
                session,
                name="Demo Operator",
                email="demo-operator@example.com",
                password="a long test passphrase",
                role_name="operator",
            )
        own = add_item(engine, "SHDEMO1", url=f"{api}/demo-images/astronaut.jpg")
        other = add_item(engine, "SHDEMO2", url=f"http://127.0.0.1:{free_port()}/x.jpg")
    login = httpx.post(
        f"{api}/user/Login",
        json={
            "EmailID": "demo-operator@example.com",
            "Password": "a long test passphrase",
        },
        timeout=10,
    )
    token = login.json()["Data"]["Token"]
    headers = {"Authorization": f"Bearer {token}"}
    served = httpx.get(
        f"{api}/image/SourceImage?imageId={own}", headers=headers, timeout=30
    )
    assert served.status_code == 200, served.text
    assert served.headers["content-type"] == "image/jpeg"
    refused = httpx.get(
        f"{api}/image/SourceImage?imageId={other}", headers=headers, timeout=30
    )
    assert refused.status_code == 400
    assert "fetch policy refuses" in refused.json()["Message"]


def test_up_runs_one_code_server_that_the_webserver_and_the_daemon_share(
    db_url: str, tmp_path: Path
) -> None:
    shutil.copyfile(REPO_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    samples = tmp_path / "samples"
    samples.mkdir()
    shutil.copy(REPO_ROOT / "samples" / "manifests" / "EMAIL_20261120.xlsx", samples)
    dagster_port, api_port = free_port(), free_port()
    started = time.monotonic()
    up = Running(
        ["up", "--dagster-port", str(dagster_port), "--api-port", str(api_port)]
        + ["--samples", str(samples)],
        tmp_path,
        smartcrop_env(db_url),
    )
    try:
        up.wait_for(r"Ready in [\d.]+ s", timeout=150)
        ready_after = time.monotonic() - started
        tree = up.tree()

        # The workspace in the Dagster home names the one code server...
        home = tmp_path / ".smartcrop" / "dagster_home"
        workspace = yaml.safe_load((home / "workspace.yaml").read_text())
        [source] = workspace["load_from"]
        server = source["grpc_server"]
        assert server["host"] == "127.0.0.1"
        assert server["location_name"] == "smartcrop"

        # ...which is the only code server running, and owns every gRPC process.
        [code_server] = running_program(tree, "code-server", "start")
        command = tree[code_server]
        assert command[command.index("--port") + 1] == str(server["port"])
        assert command[command.index("--module-name") + 1] == "pipelines.definitions"
        grpc = running_program(tree, "api", "grpc")
        assert grpc, "the code server runs the code in a subprocess"
        assert all(code_server in ancestors(pid) for pid in grpc)

        # The webserver and the daemon load that workspace and start no code server.
        for program in ("dagster-webserver", "dagster-daemon"):
            [pid] = [p for p in tree if any(c.endswith(program) for c in tree[p][:2])]
            command = tree[pid]
            assert command[command.index("--workspace") + 1] == str(
                home / "workspace.yaml"
            )
            assert not descendants(pid), f"{program} started processes of its own"

        # The webserver has the location loaded from that gRPC server.
        location = workspace_location(f"http://127.0.0.1:{dagster_port}/graphql")
        assert location["name"] == "smartcrop"
        assert location["loadStatus"] == "LOADED"
        assert location["locationOrLoadError"]["__typename"] == "RepositoryLocation"
        shown = {m["key"]: m["value"] for m in location["displayMetadata"]}
        assert (shown["host"], shown["port"]) == ("127.0.0.1", str(server["port"]))
        assert httpx.get(f"http://127.0.0.1:{api_port}/health").status_code == 200
        _the_api_fetches_its_own_demo_images_and_no_other_loopback(db_url, api_port)
    finally:
        returncode = up.stop()

    # Ctrl-C stopped everything, cleanly.
    assert returncode == 0, up.output
    assert not alive(up.seen), up.output
    output = up.output
    print(f"smartcrop up was ready after {ready_after:.1f} s")

    # What `up` did first, then the list of addresses once everything answered.
    assert "first start: ingested 1 sample manifests" in output
    listed = [
        rf"\| API +http://127\.0\.0\.1:{api_port}$",
        rf"\| API docs +http://127\.0\.0\.1:{api_port}/docs$",
        rf"\| Crop page +http://127\.0\.0\.1:{api_port}/ui/$",
        rf"\| Dagster UI +http://127\.0\.0\.1:{dagster_port}$",
        rf"\| Staging folder +{re.escape(str(tmp_path))}/\.smartcrop/staging$",
        r"\| No admin yet\. .* create-admin --email EMAIL --name NAME$",
    ]
    for pattern in listed:
        assert re.search(pattern, output, flags=re.M), pattern

    # Once the children run, every line carries the name of who wrote it.
    lines = output.splitlines()
    supervised = lines[
        next(i for i, line in enumerate(lines) if PREFIXED.match(line)) :
    ]
    names = {m["name"] for line in supervised if (m := PREFIXED.match(line))}
    unprefixed = [line for line in supervised if not PREFIXED.match(line)]
    assert not unprefixed, unprefixed[:5]
    assert CHILDREN | {"smartcrop"} <= names

    # A readable start: no per-event DEBUG lines, Alembic chatter or beta warnings.
    assert " - DEBUG - " not in output
    assert "alembic" not in output
    assert "BetaWarning" not in output


def test_a_child_that_dies_stops_every_service_at_once_and_is_named(
    db_url: str, tmp_path: Path
) -> None:
    shutil.copyfile(REPO_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    dagster = Running(
        ["dagster", "--port", str(free_port())], tmp_path, smartcrop_env(db_url)
    )
    try:
        code_server = int(
            dagster.wait_for(r"dagster-code started \(pid (\d+)\)", timeout=60)[1]
        )
        # Wait for the code server's own subprocess: killing the parent must not leave
        # it behind, nor keep the others running until it gives up (30 s).
        deadline = time.monotonic() + 60
        while not running_program(descendants(code_server), "api", "grpc"):
            assert time.monotonic() < deadline, dagster.output
            time.sleep(0.2)
        dagster.tree()
        killed_at = time.monotonic()
        os.kill(code_server, signal.SIGKILL)
        returncode = dagster.process.wait(timeout=30)
        stopped_after = time.monotonic() - killed_at
    finally:
        if dagster.process.poll() is None:
            dagster.stop()

    print(f"smartcrop dagster stopped {stopped_after:.1f} s after the kill")
    output = dagster.output
    assert returncode == 1, output
    # Noticed at once, not after the 120 s readiness wait; the others stop within
    # the 5 s grace.
    assert stopped_after < 10, output
    assert re.search(r"\| dagster-code was killed by SIGKILL$", output, flags=re.M)
    assert "smartcrop: dagster-code was killed by SIGKILL" in output
    assert not alive(dagster.seen), output


def test_the_supervisor_sees_a_death_at_once_whatever_holds_its_output(
    capsys,
) -> None:
    from smartcrop_cli.processes import Service, supervise

    # The shell leaves a background `sleep` holding its output pipe, then dies.
    # (Odd durations: no other process on the machine runs the same command.)
    dies = ["sh", "-c", "echo hello; sleep 31.7 & sleep 0.5; kill -9 $$"]
    started = time.monotonic()
    returncode = supervise(
        {"dies": Service(dies), "lives": Service(["sleep", "31.9"])}, dict(os.environ)
    )
    elapsed = time.monotonic() - started
    out, err = capsys.readouterr()
    assert returncode == 1
    assert elapsed < 5, out
    assert re.search(r"^\d\d:\d\d:\d\d dies +\| hello$", out, flags=re.M), out
    assert re.search(r"\| dies was killed by SIGKILL$", out, flags=re.M), out
    assert re.search(r"\| lives stopped \(SIGTERM\)$", out, flags=re.M), out
    assert "smartcrop: dies was killed by SIGKILL" in err
    # The orphaned `sleep` went with its group.
    left = [cmd for _, cmd in processes().values() if cmd[:1] == ["sleep"]]
    assert ["sleep", "31.7"] not in left and ["sleep", "31.9"] not in left
