"""A cap on request bodies, so one request cannot make the API hold gigabytes.

FastAPI reads a JSON body into memory whole before validating it; without a cap, a
50 MB (or 5 GB) body to any route is read, parsed and only then refused. Every route
takes at most ``DEFAULT_MAX_BODY_BYTES``, except the two that carry renditions:

    base64(max_rendition_bytes) x 5 aspect ratios x IMAGES_PER_SAVE + 1 MiB of JSON

i.e. a programme of ``IMAGES_PER_SAVE`` images whose every rendition is at the
per-rendition maximum (the crop page sends a programme's images in one request; at
typical rendition sizes many more images fit). With the default 10 MB that is about
270 MB, and it follows ``smartcrop_service.max_rendition_bytes`` when an operator
changes it.

FastAPI reads a body before it checks the token, so the large cap is granted only to
a request carrying a validly signed, unexpired token (checked here without the
database): an anonymous client never gets more than the default.

A body announced larger than its cap (``Content-Length``) is refused at once, unread;
a chunked body is counted as it arrives and refused when it passes the cap. Both
answer 413 in the envelope.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.body_limit import RequestBodyLimitResponder
from starlette.types import ASGIApp, Receive, Scope, Send

from api.envelope import error_response
from smartcrop.errors import Unauthorized
from smartcrop.identity.tokens import decode_token
from smartcrop.settings import Settings

DEFAULT_MAX_BODY_BYTES = 1 << 20
IMAGES_PER_SAVE = 4
ASPECT_RATIOS = 5
RENDITION_PATHS = ("/image/SaveCropedImages", "/image/UpdateCroppedImageInfo")


def rendition_body_cap(settings: Settings) -> int:
    per_rendition = -(-settings.smartcrop_service.max_rendition_bytes // 3) * 4
    return per_rendition * ASPECT_RATIOS * IMAGES_PER_SAVE + DEFAULT_MAX_BODY_BYTES


def body_caps(settings: Settings) -> dict[str, int]:
    cap = rendition_body_cap(settings)
    return dict.fromkeys(RENDITION_PATHS, cap)


class BodySizeLimit:
    """Pure ASGI middleware: the cap for the request's path, else the default."""

    def __init__(
        self,
        app: ASGIApp,
        settings: Settings,
        default: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        self.app = app
        self.settings = settings
        self.caps = body_caps(settings)
        self.default = default

    def _signed(self, headers: Headers) -> bool:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        try:
            decode_token(self.settings, token.strip())
        except Unauthorized:
            return False
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        cap = self.caps.get(scope["path"].rstrip("/") or "/", self.default)
        if cap > self.default and not self._signed(headers):
            cap = self.default
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > cap):
            response = error_response(
                413,
                f"Request body too large: at most {cap:,} bytes are accepted here",
            )
            response.headers["Connection"] = "close"
            await response(scope, receive, send)
            return
        # Counts chunked bodies; passing the cap raises a 413 HTTPException inside
        # the app, which api/errors.py answers in the envelope.
        await RequestBodyLimitResponder(self.app, cap)(scope, receive, send)
