"""Downloading a source image once, for analysis, with every limit a server can break.

A provider's image URL may be slow, missing, huge, an HTML error page or a truncated
file. ``fetch_image`` never raises for any of that: it answers a ``Fetched`` whose
``reason`` says, in words an operator can act on, what was wrong.

Limits: a connect timeout, a read timeout between bytes, an overall deadline (so a
server trickling bytes cannot hold a worker), a byte limit checked against
``Content-Length`` first and then while reading, and a content-type check (an
``image/*`` type, or a generic binary type whose bytes turn out to be an image).

Every download goes through the fetch policy (``smartcrop.netfetch``): a URL it
refuses is a ``Fetched`` whose reason says why, and no request is sent.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from smartcrop import netfetch
from smartcrop.errors import FetchRefused
from smartcrop.netfetch import FetchPolicy

MAX_BYTES = 40 * 1024 * 1024
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 15.0
DEADLINE = 60.0
_CHUNK = 256 * 1024
# Servers that do not know better send images as generic binary data.
_GENERIC_TYPES = ("application/octet-stream", "binary/octet-stream", "")
_USER_AGENT = "SmartCrop/0.1 (crop suggestions)"


@dataclass(frozen=True)
class Fetched:
    """The outcome of one download: ``data`` when it worked, else a ``reason``."""

    url: str
    data: bytes | None = None
    reason: str | None = None
    http_status: int | None = None
    content_type: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.data is not None


@dataclass(frozen=True)
class FetchLimits:
    max_bytes: int = MAX_BYTES
    connect_timeout: float = CONNECT_TIMEOUT
    read_timeout: float = READ_TIMEOUT
    deadline: float = DEADLINE

    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(
            self.read_timeout,
            connect=self.connect_timeout,
            pool=self.connect_timeout,
        )


def _looks_like_image(head: bytes) -> bool:
    return (
        head.startswith(b"\xff\xd8\xff")  # JPEG
        or head.startswith(b"\x89PNG\r\n\x1a\n")
        or head.startswith((b"GIF87a", b"GIF89a"))
        or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
        or head.startswith(b"BM")
    )


def _megabytes(count: int) -> str:
    return f"{count / (1024 * 1024):.0f} MB"


def fetch_image(
    url: str,
    *,
    client: httpx.Client | None = None,
    limits: FetchLimits | None = None,
    policy: FetchPolicy | None = None,
) -> Fetched:
    """Download the image at ``url`` (http or https), within ``limits``, under the
    fetch ``policy`` (default: every non-public address refused)."""
    limits = limits or FetchLimits()
    policy = policy or FetchPolicy()
    start = time.monotonic()

    def failed(
        reason: str, http_status: int | None = None, content_type: str | None = None
    ) -> Fetched:
        return Fetched(
            url,
            reason=reason,
            http_status=http_status,
            content_type=content_type,
            seconds=time.monotonic() - start,
        )

    own_client = client is None
    http = client or make_client(limits)
    try:
        with netfetch.open_stream(url, policy, client=http) as response:
            status = response.status_code
            content_type = (
                response.headers.get("content-type", "").split(";")[0].strip().lower()
            )
            if status != 200:
                return failed(
                    f"the server answered HTTP {status}",
                    http_status=status,
                    content_type=content_type,
                )
            if not (
                content_type.startswith("image/") or content_type in _GENERIC_TYPES
            ):
                return failed(
                    f"it is not an image (the server sent {content_type})",
                    http_status=status,
                    content_type=content_type,
                )
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limits.max_bytes:
                return failed(
                    f"it is {_megabytes(int(declared))}, more than the "
                    f"{_megabytes(limits.max_bytes)} limit",
                    http_status=status,
                    content_type=content_type,
                )
            body = bytearray()
            for chunk in response.iter_bytes(_CHUNK):
                body.extend(chunk)
                if len(body) > limits.max_bytes:
                    return failed(
                        f"it is more than the {_megabytes(limits.max_bytes)} limit",
                        http_status=status,
                        content_type=content_type,
                    )
                if time.monotonic() - start > limits.deadline:
                    return failed(
                        f"it took longer than {limits.deadline:.0f} s to download",
                        http_status=status,
                        content_type=content_type,
                    )
            data = bytes(body)
    except FetchRefused as exc:
        return failed(exc.message)
    except httpx.TimeoutException as exc:
        kind = "connecting" if isinstance(exc, httpx.ConnectTimeout) else "reading"
        return failed(f"the server did not answer in time ({kind} timed out)")
    except httpx.TooManyRedirects:
        return failed("the server redirected too many times")
    except httpx.HTTPError as exc:
        return failed(f"it could not be fetched ({type(exc).__name__}: {exc})"[:300])
    finally:
        if own_client:
            http.close()
    if not data:
        return failed("the server sent an empty body", http_status=200)
    if content_type in _GENERIC_TYPES and not _looks_like_image(data[:16]):
        return failed(
            "it is not an image (generic binary data that is no JPEG, PNG, WebP, "
            "GIF or BMP)",
            http_status=200,
            content_type=content_type,
        )
    return Fetched(
        url,
        data=data,
        http_status=200,
        content_type=content_type,
        seconds=time.monotonic() - start,
    )


def make_client(limits: FetchLimits | None = None) -> httpx.Client:
    """A client for many downloads, for ``fetch_image``'s ``client``."""
    limits = limits or FetchLimits()
    return netfetch.make_client(
        limits.timeout(), {"User-Agent": _USER_AGENT, "Accept": "image/*"}
    )
