"""A real SFTP server for tests: asyncssh on loopback, password login, chrooted root.

It runs its own event loop in a background thread, so synchronous clients (paramiko)
talk to it over a real TCP socket. Faults for retry tests:

- ``stop()`` closes the listener and aborts every open connection (a crash);
  ``start()`` listens again on the same port.
- ``drop_after(nbytes, direction="read"|"write", times=1)`` aborts the next ``times``
  connections once they have read (downloads) or written (uploads) ``nbytes`` of file
  data, i.e. a link dropped mid-transfer.
- ``slow_down(seconds)`` delays every file read/write request.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import asyncssh

T = TypeVar("T")


@dataclass
class _DropRule:
    direction: str
    after_bytes: int
    times: int


@dataclass
class SftpTestServer:
    root: Path
    username: str = "smartcrop"
    password: str = "s3cr3t-sftp-password"  # distinctive, so tests can grep logs for it
    host: str = "127.0.0.1"
    port: int = 0
    host_key: asyncssh.SSHKey = field(
        default_factory=lambda: asyncssh.generate_private_key("ssh-ed25519")
    )
    logins: int = 0
    failed_logins: int = 0
    drops: int = 0
    _delay: float = 0.0
    _drop: _DropRule | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _acceptor: Any = None
    _connections: set[Any] = field(default_factory=set)

    # --- lifecycle (called from the test thread) -------------------------------------

    def start(self) -> SftpTestServer:
        """Listen (again); the port stays the same across restarts."""
        if self._loop is None:
            self.root.mkdir(parents=True, exist_ok=True)
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(
                target=self._loop.run_forever, name="sftp-test-server", daemon=True
            )
            self._thread.start()
        if self._acceptor is None:
            self._acceptor = self._run(self._listen())
            self.port = self._acceptor.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        """Stop listening and abort open connections, as if the server died."""
        if self._loop is not None and self._acceptor is not None:
            self._run(self._close())

    def shutdown(self) -> None:
        """Stop and end the background loop (fixture teardown)."""
        self.stop()
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            assert self._thread is not None
            self._thread.join(timeout=5)
            self._loop.close()
            self._loop = None

    @property
    def running(self) -> bool:
        return self._acceptor is not None

    # --- faults ----------------------------------------------------------------------

    def drop_after(self, nbytes: int, direction: str = "read", times: int = 1) -> None:
        if direction not in {"read", "write"}:
            raise ValueError("direction is 'read' or 'write'")
        with self._lock:
            self._drop = _DropRule(direction, nbytes, times) if times > 0 else None

    def slow_down(self, seconds: float) -> None:
        self._delay = seconds

    # --- client helpers ---------------------------------------------------------

    def path(self, remote: str) -> Path:
        """The local file behind a remote path (the server is chrooted to ``root``)."""
        return self.root / remote.lstrip("/")

    def known_hosts_line(self) -> str:
        public = self.host_key.export_public_key("openssh").decode().split()
        return f"[{self.host}]:{self.port} {public[0]} {public[1]}\n"

    def write_known_hosts(self, path: Path) -> Path:
        path.write_text(self.known_hosts_line())
        return path

    # --- internals (event loop thread) ------------------------------------------

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)

    async def _listen(self) -> Any:
        return await asyncssh.listen(
            self.host,
            self.port,
            server_host_keys=[self.host_key],
            server_factory=lambda: _PasswordServer(self),
            sftp_factory=lambda chan: _FaultySFTPServer(chan, self),
            allow_scp=False,
            reuse_address=True,
        )

    async def _close(self) -> None:
        acceptor, self._acceptor = self._acceptor, None
        acceptor.close()
        await acceptor.wait_closed()
        for conn in list(self._connections):
            conn.abort()
        self._connections.clear()

    def _after_io(self, session: _FaultySFTPServer, direction: str, count: int) -> None:
        with self._lock:
            if session.dropped:
                # Requests the client pipelined before the abort are still queued.
                raise asyncssh.SFTPConnectionLost("connection already dropped")
            session.transferred[direction] += count
            rule = self._drop
            if rule is None or rule.direction != direction:
                return
            if session.transferred[direction] < rule.after_bytes:
                return
            rule.times -= 1
            if rule.times <= 0:
                self._drop = None
            self.drops += 1
            session.dropped = True
        session.connection.abort()
        raise asyncssh.SFTPConnectionLost("connection dropped by the test server")


class _PasswordServer(asyncssh.SSHServer):
    def __init__(self, control: SftpTestServer) -> None:
        self._control = control
        self._conn: Any = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        self._control._connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        self._control._connections.discard(self._conn)

    def begin_auth(self, username: str) -> bool:
        return True  # always ask for a password

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        ok = username == self._control.username and password == self._control.password
        with self._control._lock:
            if ok:
                self._control.logins += 1
            else:
                self._control.failed_logins += 1
        return ok


class _FaultySFTPServer(asyncssh.SFTPServer):
    def __init__(self, chan: asyncssh.SSHServerChannel, control: SftpTestServer):
        super().__init__(chan, chroot=str(control.root))
        self._control = control
        self.transferred = {"read": 0, "write": 0}
        self.dropped = False

    async def read(self, file_obj: object, offset: int, size: int) -> bytes:
        if self._control._delay:
            await asyncio.sleep(self._control._delay)
        data = super().read(file_obj, offset, size)
        assert isinstance(data, bytes)
        self._control._after_io(self, "read", len(data))
        return data

    async def write(self, file_obj: object, offset: int, data: bytes) -> int:
        if self._control._delay:
            await asyncio.sleep(self._control._delay)
        self._control._after_io(self, "write", len(data))
        written = super().write(file_obj, offset, data)
        assert isinstance(written, int)
        return written
