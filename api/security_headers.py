"""Browser hardening headers on every answer (issue 15, "Headers").

- Every answer: ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` and
  ``Referrer-Policy: no-referrer`` (a URL holding an id never leaks to another site).
- The crop page (``/ui/``): a strict Content-Security-Policy: its own files only, no
  inline script or style, images from itself (source images come through
  ``/image/SourceImage``; blob: and data: are what the page makes of them) and from
  the rendition origins (``storage.public_base_url``, ``cdn.rewrite_base_url``),
  requests to itself only, never framed.
- JSON and files: ``default-src 'none'`` (nothing in them may load anything) and
  ``frame-ancestors 'none'``. FastAPI's /docs and /redoc load Swagger UI and ReDoc
  from their CDN with inline script, so they get only the frame protection.
- JSON answers: ``Cache-Control: no-store``: they carry tokens (login) and personal
  data, which no browser or proxy cache should keep.

A pure ASGI middleware, so the streamed XLSX download stays streamed.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smartcrop.settings import Settings

_DOCS = ("/docs", "/redoc", "/openapi.json")


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


def ui_policy(settings: Settings) -> str:
    service = settings.smartcrop_service
    origins = {
        origin
        for url in (service.storage.public_base_url, service.cdn.rewrite_base_url)
        if url and (origin := _origin(url))
    }
    images = " ".join(["'self'", "blob:", "data:", *sorted(origins)])
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {images}",
            "connect-src 'self'",
            "font-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


API_POLICY = "default-src 'none'; frame-ancestors 'none'"
DOCS_POLICY = "frame-ancestors 'none'"


class SecurityHeaders:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.ui = ui_policy(settings).encode()

    def _policy(self, path: str) -> bytes:
        if path == "/ui" or path.startswith("/ui/"):
            return self.ui
        if path.startswith(_DOCS):
            return DOCS_POLICY.encode()
        return API_POLICY.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = self._policy(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                added = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"content-security-policy", policy),
                ]
                content_type = dict(headers).get(b"content-type", b"")
                if content_type.startswith(b"application/json"):
                    added.append((b"cache-control", b"no-store"))
                headers.extend(h for h in added if h[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
