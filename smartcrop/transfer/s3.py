"""S3 listing, download and upload over a boto3 client.

The client is passed in so one client (and its connection pool) serves many calls and
tests can point it at a local server. Retries are ours (``smartcrop.transfer.retry``),
not botocore's: clients from :func:`make_s3_client` switch botocore's own retries off,
so the attempt count an operator configures is the attempt count that happens.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Protocol

import boto3
import botocore.exceptions as bce
from botocore import UNSIGNED
from botocore.config import Config
from urllib3.exceptions import HTTPError as Urllib3HTTPError

from smartcrop.transfer import (
    IncompleteTransferError,
    RemoteFile,
    TransferError,
)
from smartcrop.transfer.partial import download_whole, write_part
from smartcrop.transfer.retry import DEFAULT_RETRY, RetryPolicy, call_with_retry

_CHUNK = 1024 * 1024

# A boto3 S3 client. boto3 ships no types and its stubs are not installed (see
# pyproject's [tool.mypy] overrides), so to the type checker it is Any.
S3Client = Any


class S3ClientFactory(Protocol):
    """Makes a client for a bucket from what the settings say of it:
    :func:`make_s3_client`, or the Dagster code's S3 resource
    (``resources.S3ClientResource.make_client``), which may override any of it."""

    def __call__(
        self,
        *,
        endpoint_url: str | None,
        region: str | None,
        access_key: str | None,
        secret_key: str | None,
    ) -> S3Client: ...


# Error codes S3 (and S3-compatible stores) use for "try again later".
_TRANSIENT_CODES = frozenset(
    {
        "InternalError",
        "RequestTimeout",
        "ServiceUnavailable",
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
    }
)

# Network-level failures: the request may not have reached S3, or the answer broke off.
_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    bce.HTTPClientError,  # closed connection, read timeout, broken stream
    bce.ConnectionError,  # endpoint unreachable, connect timeout
    bce.IncompleteReadError,
    bce.ChecksumError,  # body arrived corrupted; a fresh GET may be fine
    Urllib3HTTPError,
    IncompleteTransferError,
    ConnectionError,
    TimeoutError,
)


def is_transient_s3_error(exc: BaseException) -> bool:
    """True for failures another attempt may fix (5xx, throttling, network)."""
    if isinstance(exc, bce.ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        code = exc.response.get("Error", {}).get("Code", "")
        return status >= 500 or status == 429 or code in _TRANSIENT_CODES
    return isinstance(exc, _TRANSIENT_TYPES)


def make_s3_client(
    endpoint_url: str | None = None,
    region: str | None = None,
    access_key: str | None = None,
    secret_key: str | None = None,
    *,
    connect_timeout: float = 10.0,
    read_timeout: float = 60.0,
    session_token: str | None = None,
    profile_name: str | None = None,
    max_attempts: int = 1,
    use_ssl: bool = True,
    verify: bool | None = None,
    unsigned: bool = False,
) -> S3Client:
    """A boto3 S3 client; ``None`` arguments fall back to boto3's usual chain.

    A custom ``endpoint_url`` (S3-compatible store, local test server) gets path-style
    addressing, because bucket subdomains of an IP address or a private host don't
    resolve. ``max_attempts`` is botocore's own attempts per call: 1, so that
    ``call_with_retry`` owns the retry budget. The keyword arguments after the
    timeouts are those of dagster-aws's ``S3Resource`` (``resources/s3.py``).
    """
    config = Config(
        retries={"total_max_attempts": max_attempts, "mode": "standard"},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        s3={"addressing_style": "path"} if endpoint_url else None,
        signature_version=UNSIGNED if unsigned else None,
    )
    # A fresh Session: the default one is shared process-wide and not thread-safe.
    session = boto3.session.Session(
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        aws_session_token=session_token,
        region_name=region,
        profile_name=profile_name,
    )
    return session.client(
        "s3", endpoint_url=endpoint_url, config=config, use_ssl=use_ssl, verify=verify
    )


def _as_utc(value: datetime) -> datetime:
    # Naive cursors are taken as UTC: every timestamp SmartCrop stores is UTC.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _to_remote_file(obj: dict[str, Any]) -> RemoteFile:
    key = obj["Key"]
    return RemoteFile(
        name=PurePosixPath(key).name,
        path=key,
        size=int(obj.get("Size", 0)),
        modified=_as_utc(obj["LastModified"]),
    )


def list_objects(
    client: S3Client,
    bucket: str,
    prefix: str = "",
    since_key: str | None = None,
    since_last_modified: datetime | None = None,
    *,
    page_size: int = 1000,
    retry: RetryPolicy = DEFAULT_RETRY,
) -> list[RemoteFile]:
    """Objects under ``prefix`` newer than the cursor, oldest first.

    Sorted by ``(modified, key)``. The cursor follows ``dagster_aws``'s ``get_objects``:

    - ``since_key`` alone: the objects after that key in the sorted order; the key must
      still exist (else :class:`TransferError`, as dagster raises).
    - ``since_last_modified`` alone: objects modified strictly after it.
    - both: objects whose ``(modified, key)`` is strictly after the pair, so files that
      share the cursor's second (S3 keeps whole seconds) are neither lost nor repeated,
      and the cursor key may since have been deleted. Persist both from the last file
      handled (``f.modified``, ``f.key``).

    "Folder" marker keys (ending in ``/``) are skipped. The whole listing is one
    retried operation, so a page failing midway never yields half a listing.
    """

    def fetch() -> list[RemoteFile]:
        paginator = client.get_paginator("list_objects_v2")
        found: list[RemoteFile] = []
        pages = paginator.paginate(
            Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": page_size}
        )
        for page in pages:
            for obj in page.get("Contents", []):
                if not obj["Key"].endswith("/"):
                    found.append(_to_remote_file(obj))
        return found

    files = call_with_retry(
        fetch,
        what=f"list s3://{bucket}/{prefix}",
        transient=is_transient_s3_error,
        policy=retry,
    )
    files.sort(key=lambda f: (f.modified, f.path))

    if since_key is not None and since_last_modified is not None:
        cursor = (_as_utc(since_last_modified), since_key)
        return [f for f in files if (f.modified, f.path) > cursor]
    if since_key is not None:
        for index, remote in enumerate(files):
            if remote.path == since_key:
                return files[index + 1 :]
        raise TransferError(
            f"cursor key {since_key!r} is no longer in s3://{bucket}/{prefix}"
        )
    if since_last_modified is not None:
        after = _as_utc(since_last_modified)
        return [f for f in files if f.modified > after]
    return files


def download(
    client: S3Client,
    bucket: str,
    key: str,
    dest_path: str | os.PathLike[str],
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
) -> Path:
    """Download one object to ``dest_path`` and return that path.

    Bytes go to ``<dest>.part`` and are renamed onto ``dest_path`` only once their count
    equals the object's ``ContentLength``, so a reader never sees a partial file under
    the final name. The ``.part`` file is removed when every attempt failed.
    """

    def fill(part: Path) -> int:
        response = client.get_object(Bucket=bucket, Key=key)
        body = response["Body"]

        def write(out: BinaryIO) -> None:
            for chunk in body.iter_chunks(_CHUNK):
                out.write(chunk)

        try:
            write_part(part, write)
        finally:
            body.close()
        return int(response["ContentLength"])

    return download_whole(
        dest_path,
        f"download s3://{bucket}/{key}",
        fill,
        transient=is_transient_s3_error,
        retry=retry,
    )


def upload(
    client: S3Client,
    local_path: str | os.PathLike[str],
    bucket: str,
    key: str,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
) -> None:
    """Upload a local file to ``s3://bucket/key`` (single PUT, so up to 5 GB).

    S3 makes an object visible only once its PUT completed, so no temporary key is
    needed. Each attempt reopens the file and sends it from the start.
    """
    source = Path(local_path)

    def attempt() -> None:
        with source.open("rb") as body:
            client.put_object(Bucket=bucket, Key=key, Body=body)

    call_with_retry(
        attempt,
        what=f"upload {source.name} to s3://{bucket}/{key}",
        transient=is_transient_s3_error,
        policy=retry,
    )
