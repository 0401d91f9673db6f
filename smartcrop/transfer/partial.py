"""A download written beside its destination and renamed onto it only when whole:
the one way the S3 and SFTP clients land a file."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from smartcrop.transfer import IncompleteTransferError, part_path
from smartcrop.transfer.retry import RetryPolicy, Transient, call_with_retry


def write_part(part: Path, write: Callable[[BinaryIO], object]) -> None:
    """``write`` the bytes into ``part``, flushed to disk before it returns."""
    with part.open("wb") as out:
        write(out)
        out.flush()
        # Durable before the rename, so a crash can't leave a short final file.
        os.fsync(out.fileno())


def download_whole(
    dest_path: str | os.PathLike[str],
    what: str,
    fill: Callable[[Path], int],
    *,
    transient: Transient,
    retry: RetryPolicy,
) -> Path:
    """Run ``fill`` (it reaches the remote side, writes its bytes into the ``.part``
    path it is given with :func:`write_part`, and returns how many the remote side
    said there are), retried by ``retry``; rename the part onto ``dest_path`` only
    when it holds exactly that many bytes.

    A reader never sees a partial file under the final name; no ``.part`` exists
    before the remote side answered, and it is removed when every attempt failed.
    """
    dest = Path(dest_path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(dest)

    def attempt() -> Path:
        expected = fill(part)
        written = part.stat().st_size
        if written != expected:
            raise IncompleteTransferError(f"{what}: got {written} of {expected} bytes")
        os.replace(part, dest)
        return dest

    try:
        return call_with_retry(attempt, what=what, transient=transient, policy=retry)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
