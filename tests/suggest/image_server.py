"""A real HTTP server on loopback serving source images, good and bad.

Each path is a ``Route``: a body, its content type, a status, and an optional delay
before the answer (a slow server). Every request is recorded, so a test can tell
which images were fetched again.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image


@dataclass(frozen=True)
class Route:
    body: bytes
    content_type: str = "image/jpeg"
    status: int = 200
    delay: float = 0.0


def encode(image: Image.Image, fmt: str = "JPEG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


@contextmanager
def serve(routes: dict[str, Route]) -> Iterator[tuple[str, list[str]]]:
    """Serve ``routes`` at ``http://127.0.0.1:<port>``; unknown paths are 404.

    Yields the base URL and the list of paths requested so far.
    """
    requested: list[str] = []
    stopping = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server hook's name
            requested.append(self.path)
            route = routes.get(self.path)
            if route is None:
                self.send_error(404)
                return
            if route.delay:
                stopping.wait(route.delay)
            try:
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                self.wfile.write(route.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting: that is what a slow route tests

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requested
    finally:
        stopping.set()
        time.sleep(0.05)
        server.shutdown()
        server.server_close()
        thread.join(5)
