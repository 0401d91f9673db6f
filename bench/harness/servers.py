"""Servers on loopback: ports, waiting, stopping, and the API (uvicorn, as
``smartcrop api`` runs it) with a login."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from bench.harness.paths import REPO_ROOT
from bench.harness.seed import BENCH_PASSWORD


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 60) -> None:
    """Wait until ``url`` (loopback) answers anything below 500."""
    import httpx  # noqa: PLC0415

    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s ({last})")


def stop_process(proc: subprocess.Popen[Any], timeout: float = 20) -> None:
    """Stop one child we started (SIGTERM, then SIGKILL), by its own handle."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)


class Server:
    """A server command run as a child in its own process group, answering on
    127.0.0.1:``port``; stopped with its workers when closed."""

    def __init__(
        self,
        command: list[str],
        env: dict[str, str],
        port: int,
        ready_path: str,
        log_path: Path,
        timeout: float = 90,
    ) -> None:
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(  # noqa: S603 - fixed commands
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_http(self.base_url + ready_path, timeout)
        except TimeoutError:
            self.close()
            raise TimeoutError(
                f"{command[:4]} did not answer: "
                + log_path.read_text(errors="replace")[-3000:]
            ) from None

    def close(self) -> None:
        stop_process(self.proc, timeout=20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, 15)  # uvicorn's workers share its group
        self._log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def api_server(
    db_url: str,
    config: Path,
    workers: int,
    log_path: Path,
    port: int | None = None,
    extra_env: dict[str, str] | None = None,
) -> Server:
    """``smartcrop api --workers N`` on loopback (what the README runs); ``extra_env``
    is added to its environment (``bench.claims_gc``'s knob and probe)."""
    port = port or free_port()
    env = {
        **os.environ,
        "DATABASE__URL": db_url,
        "SMARTCROP_CONFIG": str(config),
        # Every worker must sign with the same key; a fixed throw-away one here.
        "SMARTCROP_SERVICE__AUTH__JWT_SECRET": uuid.uuid4().hex + uuid.uuid4().hex,
        **(extra_env or {}),
    }
    command = [sys.executable, "-m", "smartcrop_cli", "api", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers)]
    return Server(command, env, port, "/health", log_path)


def login(base_url: str, email: str, password: str = BENCH_PASSWORD) -> str:
    """POST /user/Login on loopback; the bearer token."""
    import httpx  # noqa: PLC0415

    response = httpx.post(
        base_url + "/user/Login",
        json={"EmailID": email, "Password": password},
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["Data"]["Token"])
