"""Where a claims run's CPU goes: the API, PostgreSQL and the load client."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _process_tree_cpu(root: Any) -> float:
    """User + system CPU seconds of a process and its children (psutil)."""
    import psutil  # noqa: PLC0415 - optional: dagster depends on it

    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        try:
            times = proc.cpu_times()
        except psutil.Error:
            continue  # gone meanwhile: a short-lived child
        total += times.user + times.system
    return total


class CpuMeter:
    """CPU seconds spent by the API (uvicorn and workers), the PostgreSQL server
    (postmaster and backends) and this process (the load client), so a run can say
    where its time went. Backends that exit during a run are not counted, so only
    loops on long-lived pooled connections (the API's) are measured fairly."""

    def __init__(self, api_pid: int, pg_data_dir: Path) -> None:
        import psutil  # noqa: PLC0415

        self._api = psutil.Process(api_pid)
        self._me = psutil.Process()
        self._pg = next(
            (
                proc
                for proc in psutil.process_iter(["name", "cmdline"])
                if "postgres" in (proc.info["name"] or "")
                and str(pg_data_dir) in " ".join(proc.info["cmdline"] or ())
            ),
            None,
        )

    @classmethod
    def create(cls, api_pid: int, pg_data_dir: Path) -> CpuMeter | None:
        try:
            meter = cls(api_pid, pg_data_dir)
        except Exception:  # noqa: BLE001 - no psutil, or no such process: no figures
            return None
        return meter if meter._pg is not None else None

    def snapshot(self) -> dict[str, float]:
        times = self._me.cpu_times()
        return {
            "api": _process_tree_cpu(self._api),
            "postgres": _process_tree_cpu(self._pg),
            "client": times.user + times.system,
        }

    @staticmethod
    def per_programme(
        before: dict[str, float], after: dict[str, float], finished: int
    ) -> dict[str, float]:
        """Milliseconds of CPU per programme finished, by component."""
        return {
            key: round((after[key] - before[key]) * 1000 / max(finished, 1), 2)
            for key in before
        }
