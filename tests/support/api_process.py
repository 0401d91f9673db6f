"""The API as it runs in production: ``smartcrop api`` in its own process (uvicorn) on
a free loopback port, against a test database, with its output in a log file."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

from tests.support.processes import stop_process

SMARTCROP = str(Path(sys.executable).parent / "smartcrop")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ApiProcess:
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def memory_kib(self) -> tuple[int, int]:
        """(current, peak) resident memory of the server process, in KiB."""
        fields = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            fields[name] = value.strip()
        return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def write_config(path: Path, tmp: Path, **sections: object) -> Path:
    """A settings file with every folder under ``tmp``; ``sections`` merged in."""
    config: dict[str, object] = {
        "processing_middleware": {
            "local_filesystem": {
                "root_path": str(tmp / "staging"),
                "quarantine_path": str(tmp / "quarantine"),
                "work_dir": str(tmp / "work"),
            }
        },
        "smartcrop_service": {
            "storage": {"local_root": str(tmp / "renditions")},
            "auth": {"secret_file": str(tmp / "jwt_secret")},
        },
        "smartcrop_filewatcher_batchjob": {"output_dir": str(tmp / "outbound")},
        "smartcrop_dumpdata": {"local_path": str(tmp / "dumps")},
    }
    for key, value in sections.items():
        base = config.get(key)
        if isinstance(base, dict) and isinstance(value, dict):
            config[key] = {**base, **value}
        else:
            config[key] = value
    path.write_text(yaml.safe_dump(config))
    return path


@contextmanager
def api_process(
    config: Path,
    db_url: str,
    log: Path,
    env: dict[str, str] | None = None,
    timeout: float = 90,
    workers: int = 1,
) -> Iterator[ApiProcess]:
    """``smartcrop api`` serving ``db_url`` with the settings in ``config``."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                SMARTCROP,
                "api",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            env={
                **os.environ,
                "DATABASE__URL": db_url,
                "SMARTCROP_CONFIG": str(config),
                **(env or {}),
            },
            cwd=config.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = ApiProcess(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the API exited early:\n{server.output()[-3000:]}")
            try:
                if httpx.get(server.base_url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the API did not start:\n{server.output()[-3000:]}")
            time.sleep(0.2)
        yield server
    finally:
        stop_process(process)


def raw_post(
    port: int,
    path: str,
    body_size: int,
    *,
    chunked: bool = False,
    chunk: int = 1 << 20,
) -> bytes:
    """POST ``body_size`` bytes of JSON-ish filler over a plain socket and return what
    the server answered. The server may answer (and close) before the body is sent;
    that is the point, so a broken pipe while sending is expected, not an error."""
    head = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Type: application/json",
        "Connection: close",
    ]
    head.append(
        "Transfer-Encoding: chunked" if chunked else f"Content-Length: {body_size}"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        filler = b'{"x": "' + b"a" * (chunk - 7)
        sent = 0
        try:
            while sent < body_size:
                part = filler[: min(chunk, body_size - sent)]
                if chunked:
                    sock.sendall(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                else:
                    sock.sendall(part)
                sent += len(part)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered and closed: read what it said
        answer = b""
        try:
            while data := sock.recv(65536):
                answer += data
        except OSError:
            pass
    return answer
