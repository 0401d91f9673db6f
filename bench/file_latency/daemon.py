"""The daemon and the files: ``dagster-daemon run`` in its own process group,
manifests landed in the staging folder, and waiting for them to be ingested."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.file_latency import ROWS_PER_FILE
from bench.harness.database import BenchDatabase
from bench.harness.paths import REPO_ROOT
from bench.harness.servers import stop_process
from bench.harness.xlsx import write_manifest


class Daemon:
    """``dagster-daemon run`` for this benchmark, in its own process group so that
    its code server and run workers are stopped with it."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        command = [
            str(Path(sys.executable).parent / "dagster-daemon"),
            "run",
            "-w",
            "workspace.yaml",
        ]
        self.proc = subprocess.Popen(  # noqa: S603 - fixed command
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        stop_process(self.proc, timeout=30)
        # The daemon's own children (code server, run workers) share its group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        self._log.close()


def make_files(
    folder: Path, prefix: str, count: int, seed: int, image_base: str
) -> list[Path]:
    """``count`` small manifests with distinct content (distinct programme ids), so
    none is skipped as a copy of another; their images are served on loopback."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        write_manifest(
            folder / f"NBCU_{prefix}_{i:03d}.xlsx",
            ROWS_PER_FILE,
            seed + i,
            program_prefix=f"EP{prefix.upper()}{i:04d}",
            image_base=image_base,
        )
        for i in range(count)
    ]


def land(path: Path, staging: Path) -> float:
    """Move a prepared file into the staging folder, as a finished upload appears:
    atomically, with the landing time as its mtime. Returns the landing time."""
    now = time.time()
    os.utime(path, (now, now))
    os.replace(path, staging / path.name)
    return now


class Watcher:
    """Polls the project's database for files that reached a final status."""

    def __init__(self, url: str) -> None:
        import psycopg  # noqa: PLC0415

        self.conn = psycopg.connect(BenchDatabase.libpq(url), autocommit=True)

    def final(self) -> dict[str, str]:
        rows = self.conn.execute(
            "SELECT filename, status FROM smartcrop_upload_files"
            " WHERE status IN ('ingested', 'failed', 'skipped')"
        ).fetchall()
        return {name: status for name, status in rows}

    def work_items(self) -> int:
        row = self.conn.execute(
            "SELECT count(*) FROM smartcrop_programimage"
        ).fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        self.conn.close()


def wait_for(
    watcher: Watcher,
    daemon: Daemon,
    names: set[str],
    timeout: float,
    poll: float,
    raise_on_timeout: bool = True,
) -> tuple[float, dict[str, float]]:
    """Wait until every name is final; (time.time() at the end, name -> time seen).

    With ``raise_on_timeout`` false, returns what was done by the deadline."""
    seen: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    while True:
        final = watcher.final()
        now = time.time()
        for name in names:
            if name in final and name not in seen:
                if final[name] != "ingested":
                    raise RuntimeError(f"{name} ended {final[name]}: {daemon.tail()}")
                seen[name] = now
        if len(seen) == len(names):
            return now, seen
        if not daemon.alive():
            raise RuntimeError(f"dagster-daemon exited: {daemon.tail()}")
        if time.monotonic() > deadline:
            if not raise_on_timeout:
                return now, seen
            raise TimeoutError(
                f"{len(names) - len(seen)} of {len(names)} files not ingested within "
                f"{timeout:.0f} s; daemon log tail:\n{daemon.tail()}"
            )
        time.sleep(poll)
