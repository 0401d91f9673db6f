"""Bringing a provider file into the working area, once, and out to quarantine.

A file is identified by a *locator*: where it came from (``local``, ``s3``, ``sftp``,
``cli``, ``api``) and where it is there. Every file gets its own folder in the working
area, named by its partition key, so a re-run finds the copy it already made and
never downloads the file again.

Remote files are fetched with the clients the caller hands in (the Dagster code's S3
and SFTP resources); the settings only say which buckets and hosts there are.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from smartcrop.settings import S3Source, Settings, SftpSource
from smartcrop.transfer import s3 as s3_transfer
from smartcrop.transfer import sftp as sftp_transfer
from smartcrop.transfer.s3 import S3ClientFactory

log = logging.getLogger(__name__)

# The endpoint of a watched SFTP folder, from what the settings say of it
# (``sftp_endpoint_for`` is the plain one; resources.SftpResource.endpoint_for the
# Dagster code's).
SftpEndpointFor = Callable[[SftpSource], sftp_transfer.SftpEndpoint]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_KEY_LENGTH = 120
# A working-area name leaves room under the usual 255-byte limit for ".part" and for
# quarantine's ".<hash>": a provider's 255-byte name would otherwise not fit.
MAX_NAME_BYTES = 200


def readable(text: str) -> str:
    """Text that can be stored and shown. A name on Linux or an SFTP server may hold
    bytes that are not UTF-8 (Python keeps them as surrogates); they become U+FFFD."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


def split_remote(location: str) -> tuple[str, str]:
    """(netloc, path) of ``s3://bucket/key`` or ``sftp://host:port/path``, taken
    literally: a key may hold "#", "?" or "%", which a URL parser would cut off."""
    rest = location.split("://", 1)[1]
    netloc, _, path = rest.partition("/")
    return netloc, "/" + path


@dataclass(frozen=True)
class Locator:
    """Where a file is: ``source`` and a ``location`` URI or path at that source."""

    source: str  # local | s3 | sftp | cli | api
    location: str  # a path, s3://bucket/key or sftp://host:port/path
    modified: datetime | None = None
    size: int | None = None

    @property
    def filename(self) -> str:
        if self.source in ("s3", "sftp"):
            return readable(PurePosixPath(split_remote(self.location)[1]).name)
        return readable(Path(self.location).name)


def partition_key(filename: str, identity: str) -> str:
    """A readable, unique Dagster partition key: the sanitised name and a short hash.

    ``identity`` is what makes this delivery unique (source URI, time and size for a
    watched file; the content checksum for a file given on the command line).
    """
    digest = hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    name = _UNSAFE.sub("_", filename).strip("._") or "file"
    return f"{name[: MAX_KEY_LENGTH - 11]}-{digest}"


def delivery_identity(locator: Locator) -> str:
    modified = locator.modified.isoformat() if locator.modified else ""
    return f"{locator.source}|{locator.location}|{modified}|{locator.size}"


def work_path(settings: Settings, key: str, filename: str) -> Path:
    root = settings.processing_middleware.local_filesystem.work_dir
    # The file name never chooses the folder: path parts in it are dropped.
    name = Path(filename).name
    if name in ("", ".", ".."):
        name = "file.xlsx"
    if len(os.fsencode(name)) > MAX_NAME_BYTES:
        suffix = Path(name).suffix[-16:]
        stem = os.fsencode(name[: -len(suffix)] if suffix else name)
        cut = stem[: MAX_NAME_BYTES - len(os.fsencode(suffix))]
        name = cut.decode("utf-8", "ignore") + suffix
    return root / key / name


def s3_source_for(settings: Settings, bucket: str) -> S3Source:
    for source in settings.filewatcher.s3_sources:
        if source.bucket == bucket:
            return source
    raise LookupError(f"no filewatcher.s3_sources entry for bucket {bucket!r}")


def sftp_source_for(settings: Settings, host: str, port: int) -> SftpSource:
    for source in settings.filewatcher.sftp_sources:
        if source.host == host and source.port == port:
            return source
    raise LookupError(f"no filewatcher.sftp_sources entry for {host}:{port}")


def s3_client_for(
    settings: Settings, source: S3Source, make_client: S3ClientFactory
) -> s3_transfer.S3Client:
    """A client for a watched bucket from ``make_client`` (the Dagster code's S3
    resource), given what the settings say of the bucket: the source's endpoint and
    the service account that names it (``Settings.s3_access``)."""
    access = settings.s3_access(source.bucket, region=source.region)
    return make_client(
        endpoint_url=source.endpoint_url,
        region=access.region,
        access_key=access.access_key,
        secret_key=access.secret_key,
    )


def sftp_endpoint_for(source: SftpSource) -> sftp_transfer.SftpEndpoint:
    """Where and how to log in to a watched SFTP folder, as the settings say; the
    Dagster code's SFTP resource starts from this."""
    return sftp_transfer.SftpEndpoint(
        host=source.host,
        port=source.port,
        username=source.credentials.username or "",
        password=source.credentials.password_text or "",
        proxy_host=source.proxy.host if source.proxy else None,
        proxy_port=source.proxy.port if source.proxy else None,
        known_hosts=str(source.known_hosts) if source.known_hosts else None,
    )


def fetch(
    settings: Settings,
    locator: Locator,
    key: str,
    *,
    s3: S3ClientFactory,
    sftp: SftpEndpointFor,
) -> Path:
    """The file in the working area, fetched now unless an earlier run already did.

    A watched local file is moved (the staging folder empties itself as files are
    taken); a file given on the command line or to the API is copied (it is the
    caller's); remote files are downloaded to ``.part`` and renamed when complete,
    with a client from ``s3`` or an endpoint from ``sftp`` (the Dagster resources).
    """
    dest = work_path(settings, key, locator.filename)
    if dest.is_file():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    if locator.source == "local":
        source = Path(locator.location)
        part = dest.with_name(dest.name + ".part")
        _copy_regular_file(source, part)
        part.replace(dest)
        source.unlink()
    elif locator.source in ("cli", "api"):
        part = dest.with_name(dest.name + ".part")
        shutil.copy2(locator.location, part)
        part.replace(dest)
    elif locator.source == "s3":
        bucket, object_path = split_remote(locator.location)
        object_key = object_path.lstrip("/")
        client = s3_client_for(settings, s3_source_for(settings, bucket), s3)
        s3_transfer.download(client, bucket, object_key, dest)
    elif locator.source == "sftp":
        netloc, remote_path = split_remote(locator.location)
        parts = urlsplit(f"sftp://{netloc}")
        sftp_source = sftp_source_for(settings, parts.hostname or "", parts.port or 22)
        sftp_transfer.download(sftp(sftp_source), remote_path, dest)
    else:
        raise ValueError(f"unknown source {locator.source!r}")
    log.info("fetched %s into %s", readable(locator.location), dest)
    return dest


def _copy_regular_file(source: Path, part: Path) -> None:
    """Copy a staged file, refusing anything but a regular file at that very path: a
    symlink or a FIFO swapped in after the sensor looked is never followed or read."""
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{source} is no longer in the staging folder"
        ) from None
    except OSError as exc:  # ELOOP: a symlink
        raise FileNotFoundError(f"{source} is not a regular file ({exc})") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise FileNotFoundError(f"{source} is not a regular file")
        with part.open("wb") as out:
            shutil.copyfileobj(handle, out, 1 << 20)


def quarantine(settings: Settings, path: Path, key: str) -> Path:
    """Move a file that cannot be ingested out of the way, keeping its name visible."""
    root = settings.processing_middleware.local_filesystem.quarantine_path
    root.mkdir(parents=True, exist_ok=True)
    target = root / path.name
    if target.exists():
        target = root / f"{path.stem}.{key.rsplit('-', 1)[-1]}{path.suffix}"
    shutil.move(str(path), target)
    log.warning("quarantined %s as %s", path.name, target)
    return target


def utc_from_timestamp(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)
