"""The services as child processes under one small supervisor.

Each child runs in a process group of its own, so that stopping it reaches whatever
it started (the code server's subprocess and run workers, uvicorn's workers). Each
line it writes is printed with the time and its name in front. The first child to
exit, or Ctrl-C / SIGTERM, stops them all: SIGTERM to every group, SIGKILL to what is
left after ``GRACE_SECONDS``. A child's exit is seen by waiting on the child itself,
within a tenth of a second, whatever still holds its output pipe open.

honcho was tried first and does not fit here: docs/dependencies.md says why.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO

# The name on the lines that `smartcrop` itself prints among its children's.
SUPERVISOR_NAME = "smartcrop"
GRACE_SECONDS = 5.0
READY_TIMEOUT_SECONDS = 120
POLL_SECONDS = 0.1
# ANSI colours for the names, as Foreman and honcho use them: cyan, yellow, green,
# magenta, red, blue.
_COLOURS = (36, 33, 32, 35, 31, 34)


@dataclass(frozen=True)
class Service:
    """One child: its command, and a port to wait for before starting it."""

    command: list[str]
    # (host, port): the child starts once something accepts connections there.
    after_port: tuple[str, int] | None = None


@dataclass(frozen=True)
class Address:
    """One line of the list printed once everything answers."""

    label: str
    shown: str
    # True once the service behind the address is ready; None: nothing to wait for.
    ready: Callable[[], bool] | None = None


def answers(url: str) -> Callable[[], bool]:
    """A probe: the URL answers a GET with a status below 500."""

    def probe() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                status: int = response.status  # typeshed: urlopen answers Any
                return status < 500
        except OSError:
            return False

    return probe


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with status {returncode}"


def _stop_status(returncode: int) -> str:
    """How a child asked to stop ended: ``SIGTERM``, ``status 0``."""
    if returncode < 0:
        with contextlib.suppress(ValueError):
            return signal.Signals(-returncode).name
        return f"signal {-returncode}"
    return f"status {returncode}"


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class _Printer:
    """Lines on stdout, ``HH:MM:SS name | text``; written by the main thread only."""

    names: Sequence[str]
    prefix: bool = True
    output: IO[str] = field(default_factory=lambda: sys.stdout)

    def __post_init__(self) -> None:
        self.width = max(len(n) for n in [*self.names, SUPERVISOR_NAME])
        self.colours = dict(zip(self.names, _COLOURS * 4, strict=False))
        self.tty = self.output.isatty()

    def write(self, name: str, text: str) -> None:
        for line in text.splitlines() or [""]:
            if not self.prefix:
                print(line, file=self.output, flush=True)
                continue
            head = f"{datetime.datetime.now():%H:%M:%S} {name:<{self.width}} | "
            if self.tty and name in self.colours:
                head = f"\033[0m\033[{self.colours[name]}m{head}\033[0m"
            print(head + line, file=self.output, flush=True)


class _Supervisor:
    def __init__(
        self,
        services: dict[str, Service],
        env: dict[str, str],
        addresses: Sequence[Address],
        notes: Sequence[str],
        prefix: bool,
    ) -> None:
        self.services = services
        self.env = env
        self.addresses = addresses
        self.notes = notes
        self.printer = _Printer(list(services), prefix)
        self.lines: queue.Queue[tuple[str, str]] = queue.Queue()
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.readers: list[threading.Thread] = []
        self.stopping = threading.Event()
        self.signalled: str | None = None
        self.started = time.monotonic()

    def say(self, text: str) -> None:
        """A line of our own, printed in order with the children's."""
        self.lines.put((SUPERVISOR_NAME, text))

    def run(self) -> int:
        handlers = {
            s: signal.signal(s, self._on_signal)
            for s in (signal.SIGINT, signal.SIGTERM)
        }
        reporter = threading.Thread(
            target=self._report_when_ready, name="smartcrop-ready", daemon=True
        )
        try:
            if self.addresses:
                reporter.start()
            first_exit = self._watch()
        finally:
            self.stopping.set()
            self._stop_all()
            for signum, handler in handlers.items():
                signal.signal(signum, handler)
        if first_exit is None:
            return 0
        name, returncode = first_exit
        print(
            f"smartcrop: {name} {describe_exit(returncode)}, "
            "so every service was stopped",
            file=sys.stderr,
            flush=True,
        )
        return 1

    def _on_signal(self, signum: int, frame: object) -> None:
        self.signalled = signal.Signals(signum).name

    def _watch(self) -> tuple[str, int] | None:
        """Start the children, relay their lines; the first to exit, if one did."""
        waiting = dict(self.services)
        while self.signalled is None:
            for name, service in list(waiting.items()):
                if service.after_port is None or port_open(*service.after_port):
                    self._start(name, service)
                    del waiting[name]
            self._relay(POLL_SECONDS)
            for name, child in self.children.items():
                if child.poll() is not None:
                    self.say(f"{name} {describe_exit(child.returncode)}")
                    return name, child.returncode
        self.say(f"{self.signalled} received: stopping every service")
        return None

    def _start(self, name: str, service: Service) -> None:
        child = subprocess.Popen(  # noqa: S603 - our own fixed commands
            service.command,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            # A group of its own: a stop reaches everything the child started, and
            # Ctrl-C in the terminal reaches only us (we stop the children in order).
            process_group=0,
        )
        self.children[name] = child
        self.say(f"{name} started (pid {child.pid})")
        reader = threading.Thread(
            target=self._read, args=(name, child.stdout), name=f"read-{name}"
        )
        reader.daemon = True
        reader.start()
        self.readers.append(reader)

    def _read(self, name: str, pipe: IO[bytes]) -> None:
        for raw in iter(pipe.readline, b""):
            self.lines.put((name, raw.decode("utf-8", "replace").rstrip("\r\n")))

    def _relay(self, timeout: float) -> None:
        """Print the lines that came, waiting up to ``timeout`` for the first."""
        try:
            name, text = self.lines.get(timeout=timeout)
        except queue.Empty:
            return
        self.printer.write(name, text)
        while True:
            try:
                name, text = self.lines.get_nowait()
            except queue.Empty:
                return
            self.printer.write(name, text)

    def _stop_all(self) -> None:
        """SIGTERM to every group (an exited child's too: what it left), then KILL."""
        for name, child in self.children.items():
            if child.poll() is None:
                self.say(f"sending SIGTERM to {name} (pid {child.pid})")
            _signal_group(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + GRACE_SECONDS
        reported = {n for n, c in self.children.items() if c.returncode is not None}
        while time.monotonic() < deadline:
            for name, child in self.children.items():
                if name not in reported and child.poll() is not None:
                    reported.add(name)
                    self.say(f"{name} stopped ({_stop_status(child.returncode)})")
            if not any(_group_alive(c.pid) for c in self.children.values()):
                break
            self._relay(POLL_SECONDS)
        for name, child in self.children.items():
            if _group_alive(child.pid):
                self.say(f"sending SIGKILL to what is left of {name}")
                _signal_group(child.pid, signal.SIGKILL)
        for child in self.children.values():
            child.wait()
        for reader in self.readers:  # their last lines, once the pipes have closed
            reader.join(timeout=1)
        self._relay(0)

    def _report_when_ready(self) -> None:
        deadline = self.started + READY_TIMEOUT_SECONDS
        waiting = [a for a in self.addresses if a.ready is not None]
        while waiting and not self.stopping.is_set():
            waiting = [a for a in waiting if not (a.ready and a.ready())]
            if waiting and time.monotonic() > deadline:
                names = ", ".join(a.label for a in waiting)
                self.say(f"{names}: no answer in {READY_TIMEOUT_SECONDS} s; waiting on")
                deadline = float("inf")
            if waiting:
                self.stopping.wait(0.5)
        if self.stopping.is_set():
            return
        width = max(len(a.label) for a in self.addresses)
        for address in self.addresses:
            self.say(f"{address.label:<{width}}  {address.shown}")
        for note in self.notes:
            self.say(note)
        elapsed = time.monotonic() - self.started
        self.say(f"Ready in {elapsed:.1f} s. Press Ctrl-C to stop.")


def supervise(
    services: dict[str, Service],
    env: dict[str, str],
    addresses: Sequence[Address] = (),
    notes: Sequence[str] = (),
    prefix: bool = True,
) -> int:
    """Run the children until one exits or we are asked to stop; stop them all.

    0 when stopped by Ctrl-C or SIGTERM; 1, naming the child, when a child exited
    first (whatever its status: a service is not meant to end).
    """
    return _Supervisor(services, env, addresses, notes, prefix).run()
