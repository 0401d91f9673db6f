"""Finding new manifest files at each kind of source, given what was seen before.

Plain functions from (listing, cursor state) to (new files, next cursor state), so
the Dagster sensors stay thin and the rules can be tested without Dagster.

- Local staging folder and SFTP folders: the state is the set of files already handed
  out, as ``name -> "mtime|size"``, kept only for files still present. Taken local
  files move out of the folder, so the set stays small; a file re-sent with a new time
  or size is a new delivery.
- S3 prefixes: the state is the (last modified, key) of the newest object handed out,
  the cursor of ``smartcrop.transfer.s3.list_objects``.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from smartcrop.acquire import Locator, utc_from_timestamp
from smartcrop.manifests import is_manifest_name
from smartcrop.transfer import RemoteFile

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
