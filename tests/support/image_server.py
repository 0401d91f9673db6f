"""The one image test server: a real HTTP server on loopback that serves source images,
good and bad, and records every request it receives.

Each path is a ``Route``: a body, its content type, a status, extra headers and an
optional delay before the answer (a slow server). A plain ``bytes`` value is served as
``application/octet-stream``. A path without a route gets ``default`` (the recorder
fixture's: a small real PNG on every path), else 404.

It listens on ``127.0.0.1:<port>`` and, when the machine has IPv6 loopback, on
``[::1]`` at the same port, so a fetch that went through is seen whichever way it
connected (the SSRF tests point hostile URLs at it and check it received nothing).

``serve`` yields an ``ImageServer``; it also unpacks as ``(base URL, paths requested
so far)``.
"""

from __future__ import annotations

import contextlib
import io
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from PIL import Image

from smartcrop.netfetch import FetchPolicy

PNG_SIZE = (64, 48)


def png(width: int = PNG_SIZE[0], height: int = PNG_SIZE[1]) -> bytes:
    """A real PNG of this size, made with Pillow."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (40, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def encode(image: Image.Image, fmt: str = "JPEG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


@dataclass(frozen=True)
class Route:
    body: bytes = b""
    content_type: str = "image/jpeg"  # "": no Content-Type header
    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


SMALL_PNG = Route(png(), "image/png")


def redirect(location: str, status: int = 302) -> Route:
    return Route(b"", "", status, headers={"Location": location})


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    host: str  # the Host header


@dataclass
class ImageServer:
    port: int
    received: list[Received]
    requested: list[str]  # the paths, in the order asked
    routes: dict[str, Route]
    ipv6: bool

    @property
    def host_port(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def base(self) -> str:
        return f"http://{self.host_port}"

    def __iter__(self) -> Iterator[object]:
        """``with serve(...) as (base, requested):``"""
        return iter((self.base, self.requested))


class _V6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


@contextmanager
def serve(
    routes: dict[str, Route | bytes] | None = None,
    *,
    default: Route | None = None,
    tls: ssl.SSLContext | None = None,
) -> Iterator[ImageServer]:
    """Serve ``routes`` (https with ``tls``, a server-side context; IPv4 only then)."""
    received: list[Received] = []
    requested: list[str] = []
    table: dict[str, Route] = {
        path: (
            route
            if isinstance(route, Route)
            else Route(route, "application/octet-stream")
        )
        for path, route in (routes or {}).items()
    }
    stopping = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, send_body: bool) -> None:
            received.append(
                Received(self.command, self.path, self.headers.get("Host", ""))
            )
            requested.append(self.path)
            route = table.get(self.path, default)
            if route is None:
                self.send_error(404)
                return
            if route.delay:
                stopping.wait(route.delay)
            try:
                self.send_response(route.status)
                if route.content_type:
                    self.send_header("Content-Type", route.content_type)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                if send_body:
                    self.wfile.write(route.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting: that is what a slow route tests

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
        yield ImageServer(port, received, requested, table, ipv6=len(servers) > 1)
    finally:
        stopping.set()  # slow routes answer now
        time.sleep(0.05)
        for server, thread in zip(servers, threads, strict=True):
            server.shutdown()
            server.server_close()
            thread.join(5)


@pytest.fixture
def recorder() -> Iterator[ImageServer]:
    """A recording server serving a small PNG on every path."""
    with serve(default=SMALL_PNG) as server:
        yield server


def allowing(*base_urls: str) -> list[str]:
    """``allowed_hosts`` entries (``host:port``) for loopback test servers."""
    return [urlsplit(url).netloc for url in base_urls]


def policy_allowing(*base_urls: str) -> FetchPolicy:
    """The fetch policy with these loopback test servers allowed."""
    return FetchPolicy.of(allowing(*base_urls))
