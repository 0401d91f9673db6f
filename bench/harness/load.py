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
