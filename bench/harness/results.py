"""The machine, targets, and the result files: ``NAME.json`` and ``NAME.md``."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness.timing import rounded


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info(postgres_version: str | None) -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "python": platform.python_version(),
        "postgres": postgres_version,
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in load],
    }


def fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        text = f"{value:.3g}" if abs(value) < 100 else f"{value:,.0f}"
        return f"{text} {unit}".strip()
    return f"{value} {unit}".strip()


@dataclass
class Target:
    """One target of a benchmark: ``value`` compared with ``limit``."""

    name: str
    value: float | None
    limit: float
    kind: str  # "max": value <= limit; "min": value >= limit
    unit: str = ""

    @property
    def met(self) -> bool | None:
        if self.value is None or self.value != self.value:
            return None
        if self.kind == "max":
            return self.value <= self.limit
        return self.value >= self.limit

    def as_dict(self) -> dict[str, Any]:
        sign = "<=" if self.kind == "max" else ">="
        return {
            "name": self.name,
            "value": rounded(self.value),
            "limit": f"{sign} {self.limit:g}{(' ' + self.unit) if self.unit else ''}",
            "met": self.met,
        }


def all_met(targets: Sequence[Target]) -> bool | None:
    verdicts = [t.met for t in targets]
    if any(v is None for v in verdicts):
        return None
    return all(verdicts)


def _md_table(rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines.extend("| " + " | ".join(row) + " |" for row in rows[1:])
    return [*lines, ""]


def write_result(
    results_dir: Path,
    name: str,
    payload: dict[str, Any],
    table: Sequence[Sequence[str]],
    extra_tables: dict[str, Sequence[Sequence[str]]] | None = None,
) -> dict[str, Any]:
    """Write ``NAME.json`` (payload, with ``benchmark`` first) and ``NAME.md`` (the
    metric, ``table`` -- its first row is the header -- the targets, any extra
    tables, the machine and the note). Returns the payload as written."""
    results_dir.mkdir(parents=True, exist_ok=True)
    payload = {"benchmark": name, **payload}
    payload.setdefault(
        "generated_at", dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    )
    json_path = results_dir / f"{name}.json"
    json_path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    lines = [f"# Benchmark: {name}", "", str(payload.get("metric", "")), ""]
    if table:
        lines += _md_table(table)
    targets = payload.get("targets") or []
    if targets:
        lines += _md_table(
            [
                ("target", "value", "limit", "met"),
                *(
                    (t["name"], fmt(t["value"]), t["limit"], fmt(t["met"]))
                    for t in targets
                ),
            ]
        )
    for title, rows in (extra_tables or {}).items():
        if rows:
            lines += [f"{title}:", "", *_md_table(rows)]
    machine = payload.get("machine") or {}
    lines.append(
        f"Runs: {payload.get('runs')}; machine: {machine.get('cpu_count')} x "
        f"{machine.get('cpu_model')}, Python {machine.get('python')}, PostgreSQL "
        f"{machine.get('postgres')}; load average at start "
        f"{machine.get('load_average_at_start')}; {payload.get('generated_at')}."
    )
    if payload.get("note"):
        lines += ["", "Note: " + str(payload["note"])]
    (results_dir / f"{name}.md").write_text("\n".join(lines) + "\n")
    return payload


def missing_modules(*modules: str) -> list[str]:
    """The modules of the project that do not exist (yet)."""
    import importlib.util  # noqa: PLC0415

    missing = []
    for module in modules:
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            missing.append(module)
    return missing


def not_yet_measurable(
    results_dir: Path, name: str, metric: str, target: str, missing: list[str]
) -> dict[str, Any]:
    """The result of a benchmark whose code under test does not exist yet."""
    payload = {
        "metric": metric,
        "project": None,
        "baseline": None,
        "ratio": None,
        "target": target,
        "targets": [],
        "met": None,
        "runs": 0,
        "machine": machine_info(None),
        "note": "not yet measurable: " + ", ".join(missing) + " not found",
    }
    payload = write_result(results_dir, name, payload, [])
    print(summary_line(payload))
    return payload


def summary_line(payload: dict[str, Any]) -> str:
    """One line for the console: the headline ratio and whether targets are met."""
    ratio = payload.get("ratio")
    return (
        f"{payload['benchmark']}: project {payload.get('project_headline', '?')}, "
        f"baseline {payload.get('baseline_headline', '?')}, ratio "
        f"{fmt(ratio)}x, met={payload.get('met')}"
    )
