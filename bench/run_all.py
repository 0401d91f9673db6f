"""Run every benchmark, one after the other, and print the table of ratios.

    python -m bench.run_all [--smoke] [--only ingest,claims] [--results-dir DIR]

``make bench`` runs this. Each benchmark runs as its own process (``python -m
bench.NAME``), so one that fails does not stop the others; its result file then says
so. Afterwards ``summary.md`` beside the results holds the table quoted in the
README. A full run takes about 5 minutes on a quiet 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.harness.cli import log
from bench.harness.paths import REPO_ROOT, RESULTS_DIR
from bench.harness.results import fmt, machine_info

# The order of the issue; file_latency last, as it takes longest.
BENCHMARKS = (
    "ingest",
    "claims",
    "claims_capacity",
    "export",
    "api_read",
    "suggest_quality",
    "team_stats",
    "file_latency",
)
TIMEOUT_SECONDS = 900  # per benchmark; each bounds its own loops well below this


def _failed(name: str, results_dir: Path, returncode: int, tail: str) -> None:
    payload = {
        "benchmark": name,
        "metric": "",
        "project": None,
        "baseline": None,
        "ratio": None,
        "target": "",
        "met": None,
        "runs": 0,
        "machine": machine_info(None),
        "note": f"the benchmark failed (exit {returncode}): {tail[-1500:]}",
    }
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")
    (results_dir / f"{name}.md").write_text(
        f"# Benchmark: {name}\n\nFailed (exit {returncode}).\n\n"
        f"```\n{tail[-1500:]}\n```\n"
    )


def _headline(result: dict[str, Any]) -> tuple[str, str, str, str, str]:
    ratio = result.get("ratio")
    bound = " (bound)" if result.get("ratio_is_bound") else ""
    met = result.get("met")
    return (
        result["benchmark"],
        str(result.get("project_headline", "n/a")),
        str(result.get("baseline_headline", "n/a")),
        (f"{fmt(ratio)}x{bound}" if ratio is not None else "n/a"),
        "yes" if met is True else "no" if met is False else "n/a",
    )


def _run(command: list[str]) -> tuple[int, str, str]:
    """Run a benchmark: its progress (stderr) shown as it comes and kept, its
    summary line (stdout) kept; stopped after TIMEOUT_SECONDS."""
    proc = subprocess.Popen(  # noqa: S603 - our own modules
        command,
        cwd=REPO_ROOT,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    kept: list[str] = []
    out: list[str] = []

    def relay() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            sys.stderr.write(line)
            kept.append(line)

    def collect() -> None:
        assert proc.stdout is not None
        out.append(proc.stdout.read())

    readers = [threading.Thread(target=f, daemon=True) for f in (relay, collect)]
    for reader in readers:
        reader.start()
    try:
        proc.wait(timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        kept.append(f"stopped after {TIMEOUT_SECONDS} s")
    for reader in readers:
        reader.join(timeout=10)
    stdout = "".join(out)
    return proc.returncode, stdout, "".join(kept[-60:])


def summary_table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| benchmark | project | baseline | ratio | targets met |",
        "|---|---|---|---|---|",
    ]
    for result in results:
        lines.append("| " + " | ".join(_headline(result)) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated benchmark names")
    parser.add_argument("--results-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    names = [n for n in args.only.split(",") if n] or list(BENCHMARKS)
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmarks: {', '.join(sorted(unknown))}")
    results_dir = args.results_dir or (
        Path(tempfile.mkdtemp(prefix="smartcrop-bench-smoke-"))
        if args.smoke
        else RESULTS_DIR
    )
    started = time.monotonic()
    results: list[dict[str, Any]] = []
    failures = 0
    for name in names:
        command = [sys.executable, "-m", f"bench.{name}"]
        command += ["--results-dir", str(results_dir)]
        if args.smoke:
            command.append("--smoke")
        log(f"run_all: {name}")
        begun = time.monotonic()
        returncode, stdout, stderr = _run(command)
        if returncode != 0:
            failures += 1
            _failed(name, results_dir, returncode, stderr)
        log(f"run_all: {name} done in {time.monotonic() - begun:.0f} s")
        print(stdout.strip())
    # The table covers every benchmark with a result here, run now or earlier.
    for name in BENCHMARKS:
        path = results_dir / f"{name}.json"
        if path.exists():
            results.append(json.loads(path.read_text()))
    table = summary_table(results)
    (results_dir / "summary.md").write_text(
        "# Benchmarks: ratios to the same-run baselines\n\n"
        + table
        + "\nAbsolute numbers vary with the load on the machine; the ratios are "
        "measured against baselines run in the same run. Details: NAME.md.\n"
    )
    print()
    print(table)
    log(
        f"run_all: {len(names)} benchmarks in {time.monotonic() - started:.0f} s; "
        f"results in {results_dir}"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
