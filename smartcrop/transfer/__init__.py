"""S3 and SFTP transfer clients: list, download, upload, with retries.

Plain Python on purpose (no dagster, no fastapi): Dagster resources and the API wrap
these functions, so a transfer rule lives in exactly one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


class TransferError(Exception):
    """A transfer failed for good (retries exhausted, or a permanent error).

    The message names the remote side (host, bucket, path) but never a credential, so it
    can be logged and shown to an operator as it is.
    """


class IncompleteTransferError(TransferError):
    """Fewer (or more) bytes arrived than the remote side announced.

    Raised inside a single attempt; the retry helpers treat it as transient because a
    dropped connection is its usual cause.
    """


@dataclass(frozen=True, slots=True)
class RemoteFile:
    """One regular file on a remote source.

    ``path`` is the S3 object key or the full SFTP path; ``name`` is its last segment.
    ``modified`` is always timezone-aware UTC, so cursors compare across sources.
    """

    name: str
    path: str
    size: int
    modified: datetime

    @property
    def key(self) -> str:
        """The S3 object key (same as ``path``); reads better at S3 call sites."""
        return self.path


def part_path(dest_path: Path) -> Path:
    """Where a download is written until complete.

    Same folder as the destination, so the final ``os.replace`` is an atomic rename;
    the ``.part`` suffix keeps it out of watchers that only pick up ``.xlsx``.
    """
    return dest_path.with_name(dest_path.name + ".part")


__all__ = ["IncompleteTransferError", "RemoteFile", "TransferError", "part_path"]
