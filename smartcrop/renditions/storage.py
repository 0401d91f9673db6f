"""Where rendition images live: one interface, two backends (``storage.backend``).

``s3``: objects in the bucket ``Settings.smartcrop_bucket`` (``storage.endpoint_url``
for an S3-compatible store). ``local``: files under ``storage.local_root``, which the
API serves at ``/renditions``. Either way an object's key is
``{ProviderName}/{ProgramId}/{ImageId}/{AspectRatio}.{png|jpg}`` and its public URL is
``storage.public_base_url`` + ``/`` + key, before the CDN rewrite (``cdn.py``).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar
from urllib.parse import quote

import botocore.exceptions as bce

from smartcrop.settings import Settings
from smartcrop.transfer import TransferError
from smartcrop.transfer.retry import RetryPolicy, call_with_retry
from smartcrop.transfer.s3 import (
    S3Client,
    S3ClientFactory,
    is_transient_s3_error,
    make_s3_client,
)

# A key segment keeps letters, digits, '.', '_' and '-': provider and programme ids
# come from spreadsheets, and a '/' or '..' in one must not reach another folder.
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
# An API request waits for these: a couple of quick retries, not minutes of backoff.
_REQUEST_RETRY = RetryPolicy(attempts=3, base_delay=0.2, max_delay=1.0)


class StorageError(Exception):
    """The rendition store failed (after retries); the message names no secret."""


def _segment(value: object) -> str:
    # No leading dot either: no hidden files, no "." or ".." segments.
    cleaned = _UNSAFE.sub("_", str(value).strip()).lstrip(".")
    return cleaned or "_"


def rendition_key(
    provider_name: str, program_id: str, image_id: int, aspect_ratio: str, ext: str
) -> str:
    if ext not in ("png", "jpg"):
        raise ValueError(f"renditions are png or jpg, not {ext!r}")
    return "/".join(
        (
            _segment(provider_name),
            _segment(program_id),
            _segment(image_id),
            f"{_segment(aspect_ratio)}.{ext}",
        )
    )


def public_url(settings: Settings, key: str) -> str:
    """The URL a stored rendition is served at, before the CDN rewrite."""
    base = settings.smartcrop_service.storage.public_base_url.rstrip("/")
    return f"{base}/{quote(key)}"


class RenditionStorage(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is no such object."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; no error when it is already gone."""
        ...


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise StorageError(f"rendition key {key!r} leaves the storage folder")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename: a reader (the static file server) never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


T = TypeVar("T")


class S3Storage:
    def __init__(self, client: S3Client, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def _call(self, what: str, operation: Callable[[], T]) -> T:
        try:
            return call_with_retry(
                operation,
                what=f"{what} s3://{self.bucket}",
                transient=is_transient_s3_error,
                policy=_REQUEST_RETRY,
            )
        except TransferError as exc:
            raise StorageError(str(exc)) from None

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self._call(
            f"put {key} in",
            lambda: self.client.put_object(
                Bucket=self.bucket, Key=key, Body=data, ContentType=content_type
            ),
        )

    def get(self, key: str) -> bytes | None:
        def fetch() -> bytes | None:
            try:
                response = self.client.get_object(Bucket=self.bucket, Key=key)
            except bce.ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                    return None
                raise
            body: bytes = response["Body"].read()
            return body

        return self._call(f"get {key} from", fetch)

    def delete(self, key: str) -> None:
        self._call(
            f"delete {key} from",
            lambda: self.client.delete_object(Bucket=self.bucket, Key=key),
        )


def open_storage(settings: Settings, s3: S3ClientFactory) -> RenditionStorage:
    """The rendition store the settings choose (``storage.backend``); an S3 one
    reaches ``Settings.smartcrop_bucket`` with a client from ``s3`` (the Dagster
    code's rendition-storage resource, or the API's :func:`request_s3_client`)."""
    storage = settings.smartcrop_service.storage
    if storage.backend == "local":
        return LocalStorage(storage.local_root)
    access = settings.s3_access(settings.smartcrop_bucket)
    client = s3(
        endpoint_url=storage.endpoint_url,
        region=access.region,
        access_key=access.access_key,
        secret_key=access.secret_key,
    )
    return S3Storage(client, settings.smartcrop_bucket)


# An API request waits on the store: short timeouts (the Dagster resource too).
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0


def request_s3_client(
    *,
    endpoint_url: str | None,
    region: str | None,
    access_key: str | None,
    secret_key: str | None,
) -> S3Client:
    """The API's client for the renditions bucket."""
    return make_s3_client(
        endpoint_url=endpoint_url,
        region=region,
        access_key=access_key,
        secret_key=secret_key,
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
    )


def storage_from_settings(settings: Settings) -> RenditionStorage:
    """The API's rendition store (it has no Dagster resources)."""
    return open_storage(settings, request_s3_client)
