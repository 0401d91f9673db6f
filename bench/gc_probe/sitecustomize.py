"""Bench only: times every generation-2 collection of a process started with this
folder on its ``PYTHONPATH`` and ``SMARTCROP_GC_PROBE_DIR`` set.

Python imports ``sitecustomize`` at start-up, before anything else: ``bench.claims_gc``
starts ``smartcrop api`` with both, so each uvicorn worker (spawned, so it inherits the
environment) writes ``<pid>.jsonl`` in that folder, one line per full collection: its
start (``time.perf_counter``, one clock for every process on Linux), its wall time
(how long the worker answered nothing), its CPU time (the thread's: what it cost,
whatever else the machine was doing), the objects it freed, how many objects were
frozen then and whether the process had imported the app; and once, at the first
collection of any generation after a ``gc.freeze``, how many objects it froze.
Production never has this folder on its path; without the variable it does nothing.
"""

from __future__ import annotations

import os

_OUT = os.environ.get("SMARTCROP_GC_PROBE_DIR")

if _OUT:
    import gc
    import json
    import sys
    import time
    from typing import Any

    _started = [0.0, 0.0]
    _path = os.path.join(_OUT, f"{os.getpid()}.jsonl")

    _noted_freeze: list[int] = []

    def _probe(phase: str, info: dict[str, Any]) -> None:
        if phase == "stop" and not _noted_freeze and gc.get_freeze_count():
            _noted_freeze.append(gc.get_freeze_count())
            _write({"froze_by": time.perf_counter()})
        if info["generation"] != 2:
            return
        if phase == "start":
            _started[:] = time.perf_counter(), time.thread_time()
            return
        # Timed before any I/O below.
        seconds = time.perf_counter() - _started[0]
        cpu = time.thread_time() - _started[1]
        _write(
            {
                "start": _started[0],
                "seconds": seconds,
                "cpu_seconds": cpu,
                "collected": info["collected"],
            }
        )

    def _write(line: dict[str, Any]) -> None:
        line.update(frozen=gc.get_freeze_count(), api="api.app" in sys.modules)
        with open(_path, "a") as out:
            out.write(json.dumps(line) + "\n")

    gc.callbacks.append(_probe)
