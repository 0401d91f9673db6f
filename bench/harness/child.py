"""Measured runs in child processes: each times only its work and reports back,
with its own peak RSS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness.paths import REPO_ROOT


@dataclass
class ChildResult:
    """What a child run reported, its peak RSS and its wall time from the parent.

    The peak RSS is the child's own high-water mark (``VmHWM`` of its address space,
    read by the child as it ends): ``ru_maxrss`` from ``wait4`` would also count the
    parent's pages, which the child shares between fork and exec."""

    result: dict[str, Any]
    peak_rss_mb: float
    wall_seconds: float


class ChildFailed(RuntimeError):
    pass


class ChildTimedOut(RuntimeError):
    """The child was killed at its deadline; what it had used until then."""

    def __init__(self, message: str, wall_seconds: float, peak_rss_mb: float) -> None:
        super().__init__(message)
        self.wall_seconds = wall_seconds
        self.peak_rss_mb = peak_rss_mb


def run_child(
    module: str,
    task: str,
    params: dict[str, Any],
    *,
    env: dict[str, str] | None = None,
    timeout: float = 600,
) -> ChildResult:
    """Run ``python -m MODULE child TASK`` and return its report and peak RSS.

    The child times only its work (imports and set-up are excluded) and writes a
    JSON report; its peak resident set size is the kernel's figure for that one
    process, read with ``os.wait4`` (so other children never mix in).
    """
    with tempfile.TemporaryDirectory(prefix="smartcrop-bench-child-") as folder:
        out = Path(folder) / "result.json"
        err_path = Path(folder) / "stderr.txt"
        args_path = Path(folder) / "params.json"
        args_path.write_text(json.dumps(params))
        command = [
            sys.executable,
            "-m",
            module,
            "child",
            task,
            str(args_path),
            str(out),
        ]
        start = time.perf_counter()
        with err_path.open("wb") as err:
            proc = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
                command,
                cwd=REPO_ROOT,
                env={**os.environ, **(env or {})},
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
            deadline = start + timeout
            timed_out = False
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.perf_counter() > deadline:
                    timed_out = True
                    proc.kill()
                    pid, status, usage = os.wait4(proc.pid, 0)
                    break
                time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        if timed_out:
            raise ChildTimedOut(
                f"{module} child {task} did not finish within {timeout:.0f} s",
                wall,
                usage.ru_maxrss / 1024,
            )
        if proc.returncode != 0 or not out.exists():
            tail = err_path.read_text(errors="replace")[-4000:]
            raise ChildFailed(
                f"{module} child {task} exited {proc.returncode}:\n{tail}"
            )
        result = json.loads(out.read_text())
        peak = result.pop("_peak_rss_kib", None) or usage.ru_maxrss  # KiB on Linux
        return ChildResult(result=result, peak_rss_mb=peak / 1024, wall_seconds=wall)


def child_main(
    tasks: dict[str, Callable[[dict[str, Any]], dict[str, Any]]], argv: Sequence[str]
) -> int:
    """The child side of ``run_child``: ``child TASK PARAMS_JSON OUT_JSON``."""
    task, params_path, out_path = argv
    params = json.loads(Path(params_path).read_text())
    try:
        result = tasks[task](params)
    except Exception:
        traceback.print_exc()
        return 1
    Path(out_path).write_text(json.dumps({**result, "_peak_rss_kib": _own_peak_kib()}))
    return 0


def script_main(
    run: Callable[[list[str]], Any],
    tasks: dict[str, Callable[[dict[str, Any]], dict[str, Any]]],
    argv: Sequence[str] | None = None,
) -> int:
    """A benchmark script's ``main``: ``child TASK ...`` runs one measured task in
    this process (``run_child`` starts it so), anything else runs the benchmark."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["child"]:
        return child_main(tasks, args[1:])
    run(args)
    return 0


def _own_peak_kib() -> int | None:
    """This process's peak resident set size since exec (Linux ``VmHWM``), KiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None
