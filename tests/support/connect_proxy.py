"""A tiny HTTP CONNECT proxy on loopback, to test proxied SFTP for real.

It records every tunnel target it opened (``tunnels``), so a test can tell the traffic
really went through it; ``refuse_with`` makes it answer CONNECT with an error instead.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field


@dataclass
class ConnectProxy:
    host: str = "127.0.0.1"
    port: int = 0
    tunnels: list[str] = field(default_factory=list)
    refuse_with: str | None = None  # e.g. "403 Forbidden"
    _listener: socket.socket | None = None
    _open: set[socket.socket] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> ConnectProxy:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept_loop, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.close()
        with self._lock:
            for sock in list(self._open):
                with contextlib.suppress(OSError):
                    sock.close()

    def _track(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            self._open.add(sock)
        return sock

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(
                target=self._serve, args=(self._track(conn),), daemon=True
            ).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            head = bytearray()
            while b"\r\n\r\n" not in head:  # the client sends nothing more until 200
                chunk = client.recv(4096)
                if not chunk:
                    raise ConnectionAbortedError("client left before CONNECT")
                head += chunk
            method, target, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
            if method != "CONNECT" or self.refuse_with:
                status = self.refuse_with or "405 Method Not Allowed"
                reply = f"HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n"
                client.sendall(reply.encode())
                client.close()
                return
            host, _, port = target.rpartition(":")
            upstream = self._track(
                socket.create_connection((host.strip("[]"), int(port)), timeout=10)
            )
            with self._lock:
                self.tunnels.append(target)
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            upstream.settimeout(None)
            threading.Thread(target=_pump, args=(upstream, client), daemon=True).start()
            _pump(client, upstream)
        except (OSError, ValueError):
            with contextlib.suppress(OSError):
                client.close()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copy bytes one way until either side closes, then close both."""
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.close()
