"""Running the services as child processes, and stopping them together."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request


def wait_for(url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                if response.status < 500:
                    return True
        except OSError:
            time.sleep(0.5)
    return False


def supervise(
    commands: dict[str, list[str]],
    env: dict[str, str],
    ready: dict[str, tuple[str, str]],
) -> int:
    """Run the children, print where they answer, stop them all on Ctrl-C or exit."""
    children = {
        name: subprocess.Popen(cmd, env=env)  # noqa: S603 - our own fixed commands
        for name, cmd in commands.items()
    }
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        for label, (probe, shown) in ready.items():
            if wait_for(probe, timeout=120):
                print(f"{label:<12} {shown}", flush=True)
            else:
                print(
                    f"{label} did not answer at {probe} within 120 s", file=sys.stderr
                )
        if ready:
            print("Press Ctrl-C to stop.", flush=True)
        while not stopping:
            exited = {
                n: c.returncode for n, c in children.items() if c.poll() is not None
            }
            if exited:
                print(f"stopped because a service exited: {exited}", file=sys.stderr)
                return 1
            time.sleep(0.5)
        return 0
    finally:
        for child in children.values():
            if child.poll() is None:
                child.terminate()
        for child in children.values():
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
