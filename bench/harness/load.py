"""A bounded GET loop on loopback: many keep-alive clients, latency per request."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    latencies: list[float]
    errors: int
    seconds: float
    error_samples: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def load_loop(
    url: str,
    *,
    clients: int,
    max_requests: int,
    max_seconds: float,
    headers: dict[str, str] | None = None,
) -> LoadResult:
    """GET ``url`` (loopback only) from ``clients`` threads, each with its own
    keep-alive connection, until ``max_requests`` in all or ``max_seconds`` have
    passed, whichever is first. Latency per request, errors, wall time."""
    import threading  # noqa: PLC0415

    import httpx  # noqa: PLC0415

    if not url.startswith(("http://127.0.0.1:", "http://localhost:")):
        raise ValueError(f"load only ever goes to loopback, not {url}")
    lock = threading.Lock()
    issued = 0
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.perf_counter() + max_seconds

    def worker() -> None:
        nonlocal issued
        mine: list[float] = []
        with httpx.Client(headers=headers, timeout=30) as client:
            while time.perf_counter() < deadline:
                with lock:
                    if issued >= max_requests:
                        break
                    issued += 1
                start = time.perf_counter()
                try:
                    response = client.get(url)
                    ok = response.status_code == 200
                except httpx.HTTPError as exc:
                    ok, response = False, None
                    errors.append(type(exc).__name__)
                if ok:
                    mine.append(time.perf_counter() - start)
                elif response is not None:
                    errors.append(f"{response.status_code} {response.text[:200]}")
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    return LoadResult(latencies, len(errors), elapsed, errors[:5])


class RunQueue:
    """The machine's runnable threads (``procs_running`` in /proc/stat), sampled
    every 50 ms while the block runs: how much wanted the 2 cores at once, this
    benchmark's own processes included. Other engineers' test suites share these
    machines; a step that ran beside them shows here. ``summary()`` after the block:
    mean and max, or None where there is no /proc/stat.

        with RunQueue() as queue:
            ...
        queue.summary()
    """

    def __init__(self, interval: float = 0.05) -> None:
        import threading  # noqa: PLC0415

        self.interval = interval
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                with open("/proc/stat") as stat:
                    for line in stat:
                        if line.startswith("procs_running"):
                            self.samples.append(int(line.split()[1]))
                            break
            except (OSError, ValueError):
                return
            self._stop.wait(self.interval)

    def __enter__(self) -> RunQueue:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict[str, float] | None:
        if not self.samples:
            return None
        mean = sum(self.samples) / len(self.samples)
        return {"mean": round(mean, 1), "max": max(self.samples)}


def freeze_load_client() -> None:
    """Move this process's heap into the permanent generation (``gc.freeze``), as
    the API does at start-up (``api/app.py``), just before a load client starts.

    Why: an open-loop load client's clock runs while it is paused, so each of its
    own full collections adds itself to every claim in flight and is charged to the
    server's p99. Its heap is the API's kind (SQLAlchemy, the project, httpx: about
    114,000 objects, about 40 ms of CPU to walk); with the API's pauses gone, the
    client's would decide steps instead. It applies to both sides of a run (HTTP and
    SQL) and both arms of ``claims_gc``, so it favours none of them.
    """
    import gc  # noqa: PLC0415

    gc.collect()
    gc.freeze()
