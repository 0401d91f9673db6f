"""Where exports are delivered: the renditions bucket and the delivery SFTP server.

One place builds the clients from the settings, so the manifest and the dumps reach
the same servers with the same credentials, proxy and host-key rules, and the
transfer layer (``smartcrop.transfer``) does the retries and the atomic uploads.
Callers with clients of their own (the Dagster assets, from their resources) hand
them in as a ``Delivery``; by default it is made from the settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smartcrop.settings import Settings
from smartcrop.transfer import TransferError
from smartcrop.transfer import s3 as s3_transfer
from smartcrop.transfer import sftp as sftp_transfer
from smartcrop.transfer.retry import DEFAULT_RETRY, RetryPolicy


def delivery_endpoint(settings: Settings, port: int) -> sftp_transfer.SftpEndpoint:
    """The ``smartcrop_ftp_config`` server on ``port`` (output or audit port).

    Credentials arrive decoded from the settings (plain or base64 in the file); the
    endpoint keeps the password out of its ``repr``.
    """
    ftp = settings.smartcrop_ftp_config
    if not ftp.host:
        raise TransferError(
            "smartcrop_ftp_config.host is empty: there is no SFTP server to deliver to"
        )
    return sftp_transfer.SftpEndpoint(
        host=ftp.host,
        port=port,
        username=ftp.credentials.username or "",
        password=ftp.credentials.password_text or "",
        proxy_host=ftp.proxy.host if ftp.proxy else None,
        proxy_port=ftp.proxy.port if ftp.proxy else None,
        known_hosts=str(ftp.known_hosts) if ftp.known_hosts else None,
    )


def bucket_client(settings: Settings) -> Any:
    """An S3 client for ``Settings.smartcrop_bucket``, as rendition storage reaches it
    (``smartcrop_service.storage.endpoint_url`` for an S3-compatible store)."""
    access = settings.s3_access(settings.smartcrop_bucket)
    return s3_transfer.make_s3_client(
        endpoint_url=settings.smartcrop_service.storage.endpoint_url,
        region=access.region,
        access_key=access.access_key,
        secret_key=access.secret_key,
    )


@dataclass(frozen=True)
class Delivery:
    """How the exports reach their targets: a client for the renditions bucket, and
    the delivery SFTP server's endpoint by port (output or audit)."""

    bucket_client: Callable[[], Any]
    sftp_endpoint: Callable[[int], sftp_transfer.SftpEndpoint]


def delivery_from_settings(settings: Settings) -> Delivery:
    """The clients as the settings describe them."""
    return Delivery(
        bucket_client=lambda: bucket_client(settings),
        sftp_endpoint=lambda port: delivery_endpoint(settings, port),
    )


def manifest_s3_key(settings: Settings, name: str) -> str:
    return settings.smartcrop_filewatcher_batchjob.s3_prefix + name


def upload_manifest(
    settings: Settings,
    path: Path,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    delivery: Delivery | None = None,
) -> list[str]:
    """Send the manifest file to every configured target; return where it went.

    Raises ``TransferError`` at the first target that fails for good (after its
    retries): the caller then stamps nothing. With no target, nothing is sent.
    """
    batch = settings.smartcrop_filewatcher_batchjob
    delivery = delivery or delivery_from_settings(settings)
    sent: list[str] = []
    # Deduplicated but ordered: "targets: [s3, s3]" sends once.
    for target in dict.fromkeys(batch.targets):
        if target == "s3":
            bucket = settings.smartcrop_bucket
            key = manifest_s3_key(settings, path.name)
            s3_transfer.upload(delivery.bucket_client(), path, bucket, key, retry=retry)
            sent.append(f"s3://{bucket}/{key}")
        elif target == "sftp":
            ftp = settings.smartcrop_ftp_config
            endpoint = delivery.sftp_endpoint(ftp.ports.output)
            remote = sftp_transfer.upload(
                endpoint, path, ftp.directories.output, path.name, retry=retry
            )
            sent.append(endpoint.describe(remote))
    return sent
