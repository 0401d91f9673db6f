"""A loopback image server, for code that fetches source images."""

from __future__ import annotations

from typing import Any


def small_jpeg(width: int = 320, height: int = 180) -> bytes:
    """A small JPEG with some structure (a gradient and a bright block)."""
    import io  # noqa: PLC0415

    from PIL import Image, ImageDraw  # noqa: PLC0415

    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    ImageDraw.Draw(image).ellipse(
        (width // 3, height // 4, width // 2, height * 3 // 4), fill=(240, 200, 170)
    )
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


class ImageServer:
    """Answers every GET on 127.0.0.1 with one small JPEG, in a thread.

    ``base_url`` is what to put in manifests so that image fetches stay on this
    machine and cost what a fast CDN would."""

    def __init__(self) -> None:
        from http.server import (  # noqa: PLC0415
            BaseHTTPRequestHandler,
            ThreadingHTTPServer,
        )
        from threading import Thread  # noqa: PLC0415

        body = small_jpeg()
        self.requests = 0
        server_self = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                server_self.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self.base_url = f"http://127.0.0.1:{self.port}/images"
        self._thread = Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> ImageServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
