"""SFTP listing, download and upload over paramiko, with retries.

Each download/upload attempt opens a fresh SSH connection (``smartcrop.transfer.ssh``):
after a drop the old one is useless, and a retry that reuses nothing also survives a
server restart. Files appear under their final name only when complete: downloads via
a local ``.part`` and a rename, uploads via a remote ``.part`` and a server-side rename.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, cast

import paramiko
from paramiko.message import Message
from paramiko.sftp import CMD_CLOSE, CMD_HANDLE, CMD_NAME, CMD_OPENDIR, CMD_READDIR

from smartcrop.transfer import (
    IncompleteTransferError,
    RemoteFile,
)
from smartcrop.transfer.partial import download_whole, write_part
from smartcrop.transfer.retry import DEFAULT_RETRY, RetryPolicy, call_with_retry
from smartcrop.transfer.ssh import (
    ProxyTunnelError,
    SftpEndpoint,
    is_transient_sftp_error,
    open_session,
    sftp_session,
)

__all__ = [
    "ProxyTunnelError",
    "SftpEndpoint",
    "download",
    "is_transient_sftp_error",
    "list_files",
    "list_remote_files",
    "sftp_session",
    "upload",
]


def _wire(path: str) -> bytes:
    """A path as the server spells it: names listed with bytes that are not UTF-8
    were kept as surrogates (see ``_listdir_attr``) and go back as those bytes."""
    return path.encode("utf-8", "surrogateescape")


class _SFTPRequests(Protocol):
    """The private part of ``paramiko.SFTPClient`` that ``_listdir_attr`` uses (the
    stubs, like paramiko's documentation, leave it out); as of paramiko 5.1."""

    def _request(self, t: int, *args: object) -> tuple[int, Message]: ...

    def _adjust_cwd(self, path: bytes) -> bytes: ...


def _listdir_attr(
    client: paramiko.SFTPClient, directory: str
) -> list[paramiko.SFTPAttributes]:
    """``SFTPClient.listdir_attr`` that survives a name that is not UTF-8.

    paramiko decodes every name strictly, so one such file (any byte is allowed on a
    Unix server) would fail the whole listing, and with it every later file of the
    folder. Names are decoded with ``surrogateescape`` instead, as Python does for
    local file names; ``_wire`` turns them back into the server's bytes.
    """
    sftp = cast(_SFTPRequests, client)
    kind, msg = sftp._request(CMD_OPENDIR, sftp._adjust_cwd(_wire(directory)))
    if kind != CMD_HANDLE:
        raise paramiko.SFTPError("Expected handle")
    handle = msg.get_binary()
    found: list[paramiko.SFTPAttributes] = []
    # Private, so not in the stubs either: (message, name, long name) -> attributes.
    from_msg = paramiko.SFTPAttributes._from_msg  # type: ignore[attr-defined]
    try:
        while True:
            try:
                kind, msg = sftp._request(CMD_READDIR, handle)
            except EOFError:
                break
            if kind != CMD_NAME:
                raise paramiko.SFTPError("Expected name response")
            for _ in range(msg.get_int()):
                name = msg.get_string().decode("utf-8", "surrogateescape")
                longname = msg.get_string().decode("utf-8", "replace")
                attrs: paramiko.SFTPAttributes = from_msg(msg, name, longname)
                if name not in (".", ".."):
                    found.append(attrs)
    finally:
        # A dropped connection fails the close too; the first error is the one to see.
        with contextlib.suppress(Exception):
            sftp._request(CMD_CLOSE, handle)
    return found


def list_files(sftp: paramiko.SFTPClient, directory: str) -> list[RemoteFile]:
    """Regular files directly in ``directory`` (no folders, links or devices).

    Sorted by ``(modified, name)``, oldest first; ``modified`` is the server's mtime in
    UTC (whole seconds, as SFTP v3 carries them).
    """
    files = []
    for attrs in _listdir_attr(sftp, directory):
        if attrs.st_mode is None or not stat.S_ISREG(attrs.st_mode):
            continue
        files.append(
            RemoteFile(
                name=attrs.filename,
                path=posixpath.join(directory, attrs.filename),
                size=int(attrs.st_size or 0),
                modified=datetime.fromtimestamp(attrs.st_mtime or 0, tz=UTC),
            )
        )
    files.sort(key=lambda f: (f.modified, f.name))
    return files


def list_remote_files(
    endpoint: SftpEndpoint, directory: str, *, retry: RetryPolicy = DEFAULT_RETRY
) -> list[RemoteFile]:
    """:func:`list_files` on a fresh connection, the whole listing retried."""

    def attempt() -> list[RemoteFile]:
        with open_session(endpoint) as sftp:
            return list_files(sftp, directory)

    return call_with_retry(
        attempt,
        what=f"list {endpoint.describe(directory)}",
        transient=is_transient_sftp_error,
        policy=retry,
    )


def download(
    endpoint: SftpEndpoint,
    remote_path: str,
    dest_path: str | os.PathLike[str],
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
) -> Path:
    """Download ``remote_path`` to ``dest_path`` and return that path.

    Bytes go to ``<dest>.part``, renamed onto ``dest_path`` only when their count equals
    the remote size; each attempt uses a new connection. The ``.part`` is removed when
    every attempt failed.
    """

    def fill(part: Path) -> int:
        with open_session(endpoint) as sftp:
            expected = sftp.stat(_wire(remote_path)).st_size or 0
            write_part(part, lambda out: sftp.getfo(_wire(remote_path), out))
        return expected

    return download_whole(
        dest_path,
        f"download {endpoint.describe(remote_path)}",
        fill,
        transient=is_transient_sftp_error,
        retry=retry,
    )


def _rename_over(sftp: paramiko.SFTPClient, source: str, target: str) -> None:
    """Rename replacing ``target``: atomic where the server has posix-rename."""
    try:
        sftp.posix_rename(source, target)
        return
    except OSError:
        pass  # extension missing (plain SFTP v3 servers): fall back below
    try:
        sftp.rename(source, target)
    except OSError:
        # v3 rename refuses an existing target (e.g. left by an attempt whose reply was
        # lost); replacing it is briefly non-atomic, the best such a server allows.
        # The stat raises first if our upload itself vanished: keep the old file then.
        sftp.stat(source)
        sftp.remove(target)
        sftp.rename(source, target)


def upload(
    endpoint: SftpEndpoint,
    local_path: str | os.PathLike[str],
    remote_dir: str,
    name: str,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
) -> str:
    """Upload a local file as ``remote_dir/name``; return that remote path.

    Written to ``name.part`` first and renamed on the server once its size matches, so
    readers polling the folder never pick up a half file. Each attempt uses a new
    connection and sends the file from the start.
    """
    if not name or "/" in name or name in {".", ".."}:
        raise ValueError(f"not a plain file name: {name!r}")
    source = Path(local_path)
    final = posixpath.join(remote_dir, name)
    temporary = final + ".part"
    what = f"upload {source.name} to {endpoint.describe(final)}"

    def attempt() -> str:
        expected = source.stat().st_size
        with open_session(endpoint) as sftp:
            sftp.put(str(source), temporary, confirm=False)
            written = sftp.stat(temporary).st_size
            if written != expected:
                raise IncompleteTransferError(
                    f"{what}: server holds {written} of {expected} bytes"
                )
            _rename_over(sftp, temporary, final)
        return final

    return call_with_retry(
        attempt, what=what, transient=is_transient_sftp_error, policy=retry
    )
