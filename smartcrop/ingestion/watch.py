"""Finding new manifest files at each kind of source, given what was seen before.

Plain functions from (listing, cursor state) to (new files, next cursor state), so
the Dagster sensors stay thin and the rules can be tested without Dagster.

- Local staging folder and SFTP folders: the state is the set of files already handed
  out, as ``name -> "mtime|size"``, kept only for files still present. Taken local
  files move out of the folder, so the set stays small; a file re-sent with a new time
  or size is a new delivery.
- S3 prefixes: the state is the (last modified, key) of the newest object handed out,
  the cursor of ``smartcrop.transfer.s3.list_objects``.

``list_s3_sources`` and ``list_sftp_sources`` walk every configured source of a kind
with the clients they are given (the Dagster code's resources):
the sensors call them with their cursor, the download endpoints with none (every file
present; the endpoint then keeps those whose delivery is not yet a partition). A source
that cannot be listed is reported, and its cursor left as it was, without stopping
the others.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from smartcrop.ingestion import acquire
from smartcrop.ingestion.acquire import Locator, utc_from_timestamp
from smartcrop.ingestion.manifests import is_manifest_name
from smartcrop.settings import Settings
from smartcrop.transfer import RemoteFile, TransferError
from smartcrop.transfer import s3 as s3_transfer
from smartcrop.transfer import sftp as sftp_transfer
from smartcrop.transfer.s3 import S3ClientFactory

# A local file changed this recently may still be being written; wait a tick.
SETTLE_SECONDS = 1.0


def _stamp(modified: datetime | float, size: int) -> str:
    value = modified.timestamp() if isinstance(modified, datetime) else modified
    return f"{value:.6f}|{size}"


def scan_local(
    root: Path, seen: dict[str, str], now: float | None = None
) -> tuple[list[Locator], dict[str, str]]:
    now = time.time() if now is None else now
    found: list[Locator] = []
    present: dict[str, str] = {}
    if not root.is_dir():
        return [], {}
    entries = sorted(root.iterdir(), key=lambda p: p.name)
    for path in entries:
        if not path.is_file() or path.is_symlink() or not is_manifest_name(path.name):
            continue
        stat = path.stat()
        stamp = _stamp(stat.st_mtime, stat.st_size)
        if now - stat.st_mtime < SETTLE_SECONDS:
            if path.name in seen:
                present[path.name] = seen[path.name]
            continue
        present[path.name] = stamp
        if seen.get(path.name) != stamp:
            found.append(
                Locator(
                    "local",
                    str(path.resolve()),
                    utc_from_timestamp(stat.st_mtime),
                    stat.st_size,
                )
            )
    return found, present


def new_sftp_files(
    listing: list[RemoteFile], seen: dict[str, str], host: str, port: int
) -> tuple[list[Locator], dict[str, str]]:
    found: list[Locator] = []
    present: dict[str, str] = {}
    for remote in listing:
        if not is_manifest_name(remote.name):
            continue
        stamp = _stamp(remote.modified, remote.size)
        present[remote.name] = stamp
        if seen.get(remote.name) != stamp:
            path = remote.path if remote.path.startswith("/") else "/" + remote.path
            found.append(
                Locator(
                    "sftp", f"sftp://{host}:{port}{path}", remote.modified, remote.size
                )
            )
    return found, present


def s3_locators(listing: list[RemoteFile], bucket: str) -> list[Locator]:
    return [
        Locator("s3", f"s3://{bucket}/{remote.path}", remote.modified, remote.size)
        for remote in listing
        if is_manifest_name(remote.name)
    ]


@dataclass
class Listing:
    """What one pass over the sources of a kind found."""

    found: list[Locator] = field(default_factory=list)
    # The cursor to keep for the next pass: per source, as the kind's rules keep it.
    cursor: dict[str, Any] = field(default_factory=dict)
    # "source: why", one per source that could not be listed.
    errors: list[str] = field(default_factory=list)
    sources: int = 0

    @property
    def all_failed(self) -> bool:
        return self.sources > 0 and len(self.errors) >= self.sources


def list_s3_sources(
    settings: Settings, cursor: dict[str, Any] | None, s3: S3ClientFactory
) -> Listing:
    """New manifests under each ``filewatcher.s3_sources`` bucket/prefix, oldest
    first per source; with no cursor, every manifest there. ``s3`` makes each
    source's client (the Dagster code's S3 resource)."""
    listing = Listing(cursor=dict(cursor or {}))
    for source in settings.filewatcher.s3_sources:
        listing.sources += 1
        name = f"{source.bucket}/{source.prefix}"
        last = listing.cursor.get(name, {})
        try:
            objects = s3_transfer.list_objects(
                acquire.s3_client_for(settings, source, s3),
                source.bucket,
                source.prefix,
                since_key=last.get("key"),
                since_last_modified=(
                    datetime.fromisoformat(last["modified"])
                    if last.get("modified")
                    else None
                ),
            )
        except TransferError as exc:
            listing.errors.append(f"S3 source {name} not listed: {exc}")
            continue
        if objects:
            newest = objects[-1]
            listing.cursor[name] = {
                "key": newest.path,
                "modified": newest.modified.isoformat(),
            }
        listing.found.extend(s3_locators(objects, source.bucket))
    return listing


def list_sftp_sources(
    settings: Settings, cursor: dict[str, Any] | None, sftp: acquire.SftpEndpointFor
) -> Listing:
    """New manifests in each ``filewatcher.sftp_sources`` folder; with no cursor,
    every manifest there. ``sftp`` gives each source's endpoint (the Dagster code's
    SFTP resource)."""
    listing = Listing(cursor=dict(cursor or {}))
    for source in settings.filewatcher.sftp_sources:
        listing.sources += 1
        name = f"{source.host}:{source.port}{source.directory}"
        try:
            files = sftp_transfer.list_remote_files(sftp(source), source.directory)
        except TransferError as exc:
            listing.errors.append(f"SFTP source {name} not listed: {exc}")
            continue
        new, present = new_sftp_files(
            files, listing.cursor.get(name, {}), source.host, source.port
        )
        listing.cursor[name] = present
        listing.found.extend(new)
    return listing


def list_sources(
    settings: Settings,
    kind: str,
    cursor: dict[str, Any] | None = None,
    *,
    s3: S3ClientFactory,
    sftp: acquire.SftpEndpointFor,
) -> Listing:
    if kind == "s3":
        return list_s3_sources(settings, cursor, s3)
    if kind == "sftp":
        return list_sftp_sources(settings, cursor, sftp)
    raise ValueError(f"no remote source kind {kind!r}")
