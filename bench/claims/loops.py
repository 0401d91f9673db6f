"""The operators' loops of the claims benchmark: the project's over HTTP and the
baseline's as bare SQL with SKIP LOCKED, each thread an operator."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench.harness.claim_cycle import (
    ASPECT_1X1,
    SQL_CLAIM,
    SQL_FINISH,
    SQL_RENDITION,
    finish_body,
)
from bench.harness.database import BenchDatabase


@dataclass
class LoopResult:
    """What one loop (all operators of one run) did."""

    claims: list[tuple[str, list[int], int]] = field(default_factory=list)
    claim_latency: list[float] = field(default_factory=list)
    save_latency: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def finished(self) -> int:
        return len(self.save_latency)

    def duplicates(self) -> int:
        """Extra hand-outs: every claim of a programme after its first, whoever got
        it (0 when each programme went out exactly once)."""
        programmes = Counter(pid for pid, _, _ in self.claims)
        return sum(n - 1 for n in programmes.values())

    def _owners(self) -> dict[str, set[int]]:
        owners: dict[str, set[int]] = {}
        for pid, _, user in self.claims:
            owners.setdefault(pid, set()).add(user)
        return owners

    def cross_operator(self) -> int:
        """Programmes handed to more than one operator."""
        return sum(1 for users in self._owners().values() if len(users) > 1)

    def same_operator_repeats(self) -> int:
        """Claims that handed an operator a programme they had already been given
        (e.g. the one they had just saved)."""
        counts = Counter(pid for pid, _, _ in self.claims)
        return sum(counts[pid] - len(users) for pid, users in self._owners().items())


def run_threads(
    operators: list[Any], body: Any, max_seconds: float
) -> tuple[LoopResult, float]:
    result = LoopResult()
    lock = threading.Lock()
    deadline = time.perf_counter() + max_seconds
    threads = [
        threading.Thread(target=body, args=(op, result, lock, deadline))
        for op in operators
    ]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - start
    return result, result.seconds


# ---------------------------------------------------------------------------------
# The project's loop: HTTP
# ---------------------------------------------------------------------------------


def http_loop(
    base_url: str,
    operators: list[tuple[int, str]],
    provider: str,
    png: str,
    max_seconds: float,
) -> LoopResult:
    import httpx  # noqa: PLC0415

    def operator(
        op: tuple[int, str], out: LoopResult, lock: threading.Lock, deadline: float
    ) -> None:
        user_id, token = op
        headers = {"Authorization": f"Bearer {token}"}
        claim_url = f"{base_url}/image/GetImageInfo"
        params = {"providerName": provider, "user": str(user_id)}
        with httpx.Client(headers=headers, timeout=60) as client:
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                response = client.get(claim_url, params=params)
                claimed = time.perf_counter()
                if response.status_code != 200:
                    with lock:
                        out.errors.append(f"claim {response.status_code}")
                    continue
                data = response.json()["Data"]
                if data is None:
                    return  # the queue is empty
                ids = [image["ImageId"] for image in data["Images"]]
                with lock:
                    out.claims.append((data["ProgramId"], ids, user_id))
                    out.claim_latency.append(claimed - start)
                body = finish_body(data["ProgramId"], user_id, ids, png)
                start = time.perf_counter()
                response = client.post(f"{base_url}/image/SaveCropedImages", json=body)
                saved = time.perf_counter()
                with lock:
                    if response.status_code == 200:
                        out.save_latency.append(saved - start)
                    else:
                        out.errors.append(
                            f"save {response.status_code} {response.text[:200]}"
                        )

    result, _ = run_threads(operators, operator, max_seconds)
    return result


# ---------------------------------------------------------------------------------
# The baseline: the same loop as bare SQL with SKIP LOCKED
# ---------------------------------------------------------------------------------


def sql_loop(
    db_url: str, user_ids: list[int], provider: str, max_seconds: float
) -> LoopResult:
    import psycopg  # noqa: PLC0415

    libpq = BenchDatabase.libpq(db_url)

    def operator(
        user_id: int, out: LoopResult, lock: threading.Lock, deadline: float
    ) -> None:
        with psycopg.connect(libpq) as conn:
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                with conn.transaction():
                    rows = conn.execute(
                        SQL_CLAIM, {"provider": provider, "user": user_id}
                    ).fetchall()
                claimed = time.perf_counter()
                if not rows:
                    return
                ids = [row[0] for row in rows]
                with lock:
                    out.claims.append((rows[0][1], ids, user_id))
                    out.claim_latency.append(claimed - start)
                start = time.perf_counter()
                params = {"ids": ids, "user": user_id, "ratio": ASPECT_1X1}
                with conn.transaction():
                    conn.execute(SQL_RENDITION, {**params, "size": 90})
                    conn.execute(SQL_FINISH, params)
                with lock:
                    out.save_latency.append(time.perf_counter() - start)

    result, _ = run_threads(user_ids, operator, max_seconds)
    return result
