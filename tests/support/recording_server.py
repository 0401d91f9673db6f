"""A real HTTP server on loopback that records every request it receives.

The SSRF tests point hostile image URLs at it (by IP, by ``localhost``, as ``[::1]``,
``0.0.0.0`` or a decimal IP) and check that it received nothing. It listens on
``127.0.0.1:<port>`` and, when the machine has IPv6 loopback, on ``[::1]`` at the same
port, so a fetch that went through would be seen whichever way it connected.

``routes`` maps a path to a ``Reply``: a status, headers and a body. By default ``/``
and every other path answer a small real PNG (made with Pillow).
"""

from __future__ import annotations

import contextlib
import io
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from PIL import Image

from smartcrop.netfetch import FetchPolicy

PNG_SIZE = (64, 48)


def png(size: tuple[int, int] = PNG_SIZE) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (40, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def redirect(location: str, status: int = 302) -> Reply:
    return Reply(status, {"Location": location})


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    host: str  # the Host header


@dataclass
class RecordingServer:
    port: int
    received: list[Received]
    routes: dict[str, Reply]
    ipv6: bool

    @property
    def host_port(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def base(self) -> str:
        return f"http://{self.host_port}"


class _V6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


@contextmanager
def recording_server(
    routes: dict[str, Reply] | None = None,
    *,
    tls: ssl.SSLContext | None = None,
) -> Iterator[RecordingServer]:
    """Serve ``routes`` (https with ``tls``, a server-side context; IPv4 only then)."""
    received: list[Received] = []
    table: dict[str, Reply] = dict(routes or {})
    default = Reply(200, {"Content-Type": "image/png"}, png())

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, send_body: bool) -> None:
            received.append(
                Received(self.command, self.path, self.headers.get("Host", ""))
            )
            reply = table.get(self.path, default)
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if send_body:
                self.wfile.write(reply.body)

        def do_GET(self) -> None:  # noqa: N802 - the http.server hook's name
            self._answer(True)

        def do_HEAD(self) -> None:  # noqa: N802
            self._answer(False)

        def log_message(self, *args: object) -> None:
            pass

    servers: list[ThreadingHTTPServer] = [
        ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ]
    port = servers[0].server_address[1]
    if tls is not None:
        servers[0].socket = tls.wrap_socket(servers[0].socket, server_side=True)
    else:
        # No IPv6 loopback here, or the port is taken on it: IPv4 only.
        with contextlib.suppress(OSError):
            servers.append(_V6Server(("::1", port), Handler))
    threads = []
    for server in servers:
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        threads.append(thread)
    try:
        yield RecordingServer(port, received, table, ipv6=len(servers) > 1)
    finally:
        for server, thread in zip(servers, threads, strict=True):
            server.shutdown()
            server.server_close()
            thread.join(5)


@pytest.fixture
def recorder() -> Iterator[RecordingServer]:
    """A recording server serving a small PNG on every path."""
    with recording_server() as server:
        yield server


def allowing(*base_urls: str) -> list[str]:
    """``allowed_hosts`` entries (``host:port``) for loopback test servers."""
    return [urlsplit(url).netloc for url in base_urls]


def policy_allowing(*base_urls: str) -> FetchPolicy:
    """The fetch policy with these loopback test servers allowed."""
    return FetchPolicy.of(allowing(*base_urls))
