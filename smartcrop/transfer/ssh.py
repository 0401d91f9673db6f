"""SSH connections for SFTP: where and how to log in, the host-key rules, the HTTP
CONNECT proxy, and which failures a new connection may fix.

``smartcrop.transfer.sftp`` lists, downloads and uploads over these connections.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field

import paramiko

from smartcrop.transfer import IncompleteTransferError, TransferError
from smartcrop.transfer.retry import DEFAULT_RETRY, RetryPolicy, call_with_retry

logger = logging.getLogger("smartcrop.transfer")

_MAX_PROXY_HEADER = 16 * 1024
# Local or remote conditions a new connection cannot fix.
_PERMANENT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})
_PERMANENT_OSERRORS: tuple[type[OSError], ...] = (
    FileNotFoundError,
    PermissionError,
    IsADirectoryError,
    NotADirectoryError,
    FileExistsError,
)


@dataclass(frozen=True, slots=True)
class SftpEndpoint:
    """Where and how to log in. ``password`` is kept out of ``repr`` (logs, tracebacks).

    ``proxy_host``/``proxy_port`` tunnel the SSH connection through an HTTP CONNECT
    proxy (no proxy authentication). ``known_hosts`` is the path of an OpenSSH
    ``known_hosts`` file: when given, only the host keys it lists are accepted (for a
    port other than 22 the entry reads ``[host]:port``); when ``None``, an unknown host
    key is accepted and its fingerprint logged at WARNING.
    """

    host: str
    port: int = 22
    username: str = ""
    password: str = field(default="", repr=False)
    proxy_host: str | None = None
    proxy_port: int | None = None
    timeout: float = 30.0
    known_hosts: str | None = None

    @property
    def address(self) -> str:
        """``host:port`` for messages; never a credential."""
        return f"{self.host}:{self.port}"

    def describe(self, path: str = "") -> str:
        """``sftp://host:port/path`` (and the proxy, if any) for logs and errors."""
        where = f"sftp://{self.address}"
        if path:
            where += path if path.startswith("/") else "/" + path
        if self.proxy_host:
            where += f" via proxy {self.proxy_host}:{self.proxy_port}"
        return where


class ProxyTunnelError(ConnectionError):
    """The HTTP proxy answered CONNECT with a server-side (5xx) failure: transient."""


class _LogUnknownHostKey(paramiko.MissingHostKeyPolicy):
    """Accept a host key we have no record of, leaving a trace of what was accepted.

    Warns once per host and key per process (every transfer reconnects, and the same
    line per file would bury other warnings); a changed key warns again.
    """

    _seen: set[tuple[str, str]] = set()
    _lock = threading.Lock()

    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        with self._lock:
            first = (hostname, key.fingerprint) not in self._seen
            self._seen.add((hostname, key.fingerprint))
        logger.log(
            logging.WARNING if first else logging.DEBUG,
            "accepting unverified SSH host key for %s: %s %s "
            "(set known_hosts to verify it)",
            hostname,
            key.get_name(),
            _key_fingerprint(key),
        )


class _RejectUnknownHostKey(paramiko.MissingHostKeyPolicy):
    """Refuse a host key that ``known_hosts`` does not list, saying which key it was."""

    def __init__(self, endpoint: SftpEndpoint) -> None:
        self._endpoint = endpoint

    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        raise TransferError(
            f"SSH host key of {self._endpoint.describe()} is not in "
            f"{self._endpoint.known_hosts} ({key.get_name()} {_key_fingerprint(key)})"
        )


def _key_fingerprint(key: paramiko.PKey) -> str:
    return str(key.fingerprint)  # "SHA256:...", as OpenSSH prints it


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _open_proxy_tunnel(endpoint: SftpEndpoint) -> socket.socket:
    """A socket to the SSH server through an HTTP CONNECT proxy."""
    assert endpoint.proxy_host is not None
    proxy = (endpoint.proxy_host, int(endpoint.proxy_port or 8080))
    target = _host_port(endpoint.host, endpoint.port)
    sock = socket.create_connection(proxy, timeout=endpoint.timeout)
    try:
        request = f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n"
        sock.sendall(request.encode("idna"))
        # Byte by byte: the SSH banner follows the header at once, and must stay unread
        # in the socket for paramiko.
        head = bytearray()
        while not head.endswith(b"\r\n\r\n"):
            byte = sock.recv(1)
            if not byte:
                raise ProxyTunnelError(
                    f"proxy {proxy[0]}:{proxy[1]} closed the connection during CONNECT"
                )
            head += byte
            if len(head) > _MAX_PROXY_HEADER:
                raise ProxyTunnelError(f"proxy {proxy[0]}:{proxy[1]} sent no reply end")
        status_line = head.split(b"\r\n", 1)[0].decode("latin-1").strip()
        parts = status_line.split(" ", 2)
        code = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        if code // 100 != 2:
            message = (
                f"proxy {proxy[0]}:{proxy[1]} refused CONNECT to {target}: "
                f"{status_line!r}"
            )
            if code >= 500 or code == 0:
                raise ProxyTunnelError(message)
            raise TransferError(message)
        return sock
    except BaseException:
        sock.close()
        raise


def _connect(endpoint: SftpEndpoint) -> tuple[paramiko.SSHClient, paramiko.SFTPClient]:
    """One SSH + SFTP connection; login and host-key failures become TransferError."""
    client = paramiko.SSHClient()
    if endpoint.known_hosts is not None:
        client.load_host_keys(endpoint.known_hosts)
        client.set_missing_host_key_policy(_RejectUnknownHostKey(endpoint))
    else:
        client.set_missing_host_key_policy(_LogUnknownHostKey())
    try:
        sock = _open_proxy_tunnel(endpoint) if endpoint.proxy_host else None
        client.connect(
            hostname=endpoint.host,
            port=endpoint.port,
            username=endpoint.username,
            password=endpoint.password,
            timeout=endpoint.timeout,
            banner_timeout=endpoint.timeout,
            auth_timeout=endpoint.timeout,
            channel_timeout=endpoint.timeout,
            # Only the configured password: never the agent or ~/.ssh keys of whoever
            # runs the process.
            allow_agent=False,
            look_for_keys=False,
            sock=sock,
        )
        sftp = client.open_sftp()
        # A stalled server fails the read after `timeout` instead of hanging forever.
        channel = sftp.get_channel()
        assert channel is not None  # open_sftp's client always has its channel
        channel.settimeout(endpoint.timeout)
        return client, sftp
    except paramiko.AuthenticationException as exc:
        client.close()
        raise TransferError(
            f"SFTP login to {endpoint.describe()} as user {endpoint.username!r} was "
            "refused (wrong username or password?)"
        ) from exc
    except paramiko.BadHostKeyException as exc:
        client.close()
        raise TransferError(
            f"SSH host key of {endpoint.describe()} does not match "
            f"{endpoint.known_hosts} (got {_key_fingerprint(exc.key)})"
        ) from exc
    except BaseException:
        client.close()
        raise


def is_transient_sftp_error(exc: BaseException) -> bool:
    """True for failures a new connection may fix (drops, timeouts, refusals)."""
    if isinstance(exc, IncompleteTransferError):
        return True
    if isinstance(exc, TransferError):
        return False  # login and host-key failures: the same next time
    if isinstance(exc, paramiko.AuthenticationException | paramiko.BadHostKeyException):
        return False
    if isinstance(exc, paramiko.SSHException | EOFError):
        return True
    if isinstance(exc, OSError):
        # SFTP status errors arrive as OSError subclasses (no such file, denied):
        # permanent. Socket errors, including paramiko's errno-less "Socket is
        # closed", are transient.
        if isinstance(exc, _PERMANENT_OSERRORS):
            return False
        return exc.errno not in _PERMANENT_ERRNOS
    return False


@contextmanager
def _opened(
    connection: tuple[paramiko.SSHClient, paramiko.SFTPClient],
) -> Iterator[paramiko.SFTPClient]:
    client, sftp = connection
    try:
        yield sftp
    finally:
        for closable in (sftp, client):
            # Closing a connection that already died may raise; nothing to do then.
            with contextlib.suppress(Exception):
                closable.close()


def open_session(endpoint: SftpEndpoint) -> AbstractContextManager[paramiko.SFTPClient]:
    """One connection, no retry: for use inside a retried attempt."""
    return _opened(_connect(endpoint))


@contextmanager
def sftp_session(
    endpoint: SftpEndpoint, *, retry: RetryPolicy = DEFAULT_RETRY
) -> Iterator[paramiko.SFTPClient]:
    """An open SFTP client for the ``with`` block; closed afterwards.

    Connecting is retried; what the block does with the client is not (use
    :func:`download`/:func:`upload`, which retry whole transfers).
    """
    connection = call_with_retry(
        lambda: _connect(endpoint),
        what=f"connect to {endpoint.describe()}",
        transient=is_transient_sftp_error,
        policy=retry,
    )
    with _opened(connection) as sftp:
        yield sftp
