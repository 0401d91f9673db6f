"""A real S3 endpoint for tests: moto's server in a subprocess on loopback.

Plus :class:`FlakyHttpFront`, a small HTTP relay in front of it that can answer the next
requests with a server error or cut a response short, so retry paths run against real
HTTP instead of mocks.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from smartcrop.transfer.s3 import make_s3_client
from tests.support.processes import stop_process

REGION = "us-east-1"
ACCESS_KEY = "testing-access"
SECRET_KEY = "testing-secret-do-not-log"  # distinctive, so tests can grep logs for it


def free_port() -> int:
    """A port the kernel just handed out; races are retried by the callers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class MotoServer:
    endpoint_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        stop_process(self.process, timeout=5)


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/moto-api/", timeout=1):  # noqa: S310
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer means the server is up
    except OSError:
        return False


def start_moto_server(log_dir: Path, *, timeout: float = 30.0) -> MotoServer:
    """Start ``python -m moto.server`` on a free loopback port, wait till it answers."""
    for _ in range(5):  # another process may grab the port between probe and bind
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log_path = log_dir / f"moto-{port}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "moto.server",
                    "-H",
                    "127.0.0.1",
                    "-p",
                    str(port),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        server = MotoServer(url, process, log_path)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and process.poll() is None:
            if _ready(url):
                return server
            time.sleep(0.1)
        server.stop()
    raise RuntimeError(f"moto server did not start; see {log_dir}")


def s3_client(endpoint_url: str) -> Any:
    return make_s3_client(
        endpoint_url=endpoint_url,
        region=REGION,
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
    )


def unique_bucket_name() -> str:
    return f"test-{uuid.uuid4().hex[:20]}"


def empty_and_delete_bucket(client: Any, bucket: str) -> None:
    with contextlib.suppress(Exception):
        paginator = client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                client.delete_object(Bucket=bucket, Key=obj["Key"])
        client.delete_bucket(Bucket=bucket)


# --- fault injection -----------------------------------------------------------------

_S3_ERROR_BODY = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
    "<Message>injected by FlakyHttpFront</Message><RequestId>flaky</RequestId></Error>"
)
_REASONS = {500: "Internal Server Error", 503: "Service Unavailable", 403: "Forbidden"}


def _read_head(stream: BinaryIO) -> bytes | None:
    """Request/status line and headers, up to and including the blank line."""
    lines = []
    while True:
        line = stream.readline(65537)
        if not line:
            return None
        lines.append(line)
        if line in (b"\r\n", b"\n"):
            return b"".join(lines)


def _headers(head: bytes) -> dict[str, str]:
    result = {}
    for line in head.split(b"\r\n")[1:]:
        if b":" in line:
            name, value = line.split(b":", 1)
            result[name.decode("latin-1").strip().lower()] = value.decode(
                "latin-1"
            ).strip()
    return result


def _read_request_body(stream: BinaryIO, headers: dict[str, str]) -> bytes:
    """The body bytes exactly as sent (chunked framing kept), so they relay verbatim."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raw = bytearray()
        while True:
            size_line = stream.readline()
            raw += size_line
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while True:  # trailers, then the blank line
                    trailer = stream.readline()
                    raw += trailer
                    if trailer in (b"\r\n", b"\n", b""):
                        return bytes(raw)
            raw += stream.read(size + 2)
    length = int(headers.get("content-length", "0") or 0)
    return stream.read(length) if length else b""


def _with_connection_close(head: bytes) -> bytes:
    """The head minus Connection/Expect headers, plus ``Connection: close``."""
    lines = head.rstrip(b"\r\n").split(b"\r\n")
    kept = [lines[0]] + [
        line
        for line in lines[1:]
        if not line.lower().startswith((b"connection:", b"expect:"))
    ]
    return b"\r\n".join([*kept, b"Connection: close", b"", b""])


@dataclass
class FlakyHttpFront:
    """An HTTP relay on loopback in front of ``upstream`` (host, port).

    One request per client connection (it answers ``Connection: close``), which keeps
    it tiny while boto3 just reconnects. ``fail_next(n)`` makes the next ``n`` requests
    get an S3-style error without reaching upstream; ``truncate_next(n, after_bytes)``
    relays the next ``n`` responses but cuts them off ``after_bytes`` into the body.
    """

    upstream: tuple[str, int]
    requests: int = 0
    failures_served: int = 0
    truncations_served: int = 0
    _fail_left: int = 0
    _fail_status: int = 500
    _fail_code: str = "InternalError"
    _truncate_left: int = 0
    _truncate_after: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _listener: socket.socket | None = None
    _open: set[socket.socket] = field(default_factory=set)

    @property
    def endpoint_url(self) -> str:
        assert self._listener is not None
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def fail_next(
        self, count: int, status: int = 500, code: str = "InternalError"
    ) -> None:
        with self._lock:
            self._fail_left, self._fail_status, self._fail_code = count, status, code

    def truncate_next(self, count: int, after_bytes: int) -> None:
        with self._lock:
            self._truncate_left, self._truncate_after = count, after_bytes

    def start(self) -> FlakyHttpFront:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept_loop, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.close()
        with self._lock:
            for sock in list(self._open):
                with contextlib.suppress(OSError):
                    sock.close()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return  # listener closed
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _take(self) -> tuple[str, int]:
        with self._lock:
            self.requests += 1
            if self._fail_left > 0:
                self._fail_left -= 1
                self.failures_served += 1
                return "fail", 0
            if self._truncate_left > 0:
                self._truncate_left -= 1
                self.truncations_served += 1
                return "truncate", self._truncate_after
            return "relay", 0

    def _serve(self, conn: socket.socket) -> None:
        with self._lock:
            self._open.add(conn)
        try:
            with conn, conn.makefile("rb") as reader:
                head = _read_head(reader)
                if head is None:
                    return
                headers = _headers(head)
                waits_for_continue = headers.get("expect", "").lower() == "100-continue"
                action, after = self._take()
                if action == "fail":
                    if not waits_for_continue:
                        _read_request_body(reader, headers)
                    self._send_error(conn)
                    return
                if waits_for_continue:
                    conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                body = _read_request_body(reader, headers)
                self._relay(conn, _with_connection_close(head) + body, action, after)
        except OSError:
            pass  # client or upstream went away; the client sees a dropped connection
        finally:
            with self._lock:
                self._open.discard(conn)

    def _send_error(self, conn: socket.socket) -> None:
        body = _S3_ERROR_BODY.format(code=self._fail_code).encode()
        reason = _REASONS.get(self._fail_status, "Error")
        conn.sendall(
            f"HTTP/1.1 {self._fail_status} {reason}\r\n"
            "Content-Type: application/xml\r\n"
            f"Content-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n".encode()
            + body
        )

    def _relay(
        self, conn: socket.socket, request: bytes, action: str, after: int
    ) -> None:
        with socket.create_connection(self.upstream, timeout=30) as upstream:
            upstream.sendall(request)
            with upstream.makefile("rb") as up_reader:
                head = _read_head(up_reader)
                if head is None:
                    return
                conn.sendall(head)
                budget = after if action == "truncate" else None
                while True:
                    chunk = up_reader.read1(65536)
                    if not chunk:
                        return
                    if budget is not None:
                        chunk = chunk[:budget]
                        budget -= len(chunk)
                    conn.sendall(chunk)
                    if budget == 0:
                        # Cut mid-body: an abortive close, like a dropped link.
                        conn.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                        )
                        return
