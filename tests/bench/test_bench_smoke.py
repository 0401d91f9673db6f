"""Every benchmark script runs at smoke size and writes a well-formed result.

Smoke runs use tiny data and one run; nothing here asserts a time. Full runs are
``make bench`` (``python -m bench.run_all``) and stay out of ``make test``. Each
script runs as ``python -m bench.NAME --smoke`` in its own process, exactly as
``run_all`` runs it, with its results in a temporary folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
REQUIRED = ("benchmark", "metric", "project", "baseline", "ratio", "target", "met")
REQUIRED += ("runs", "machine")
MACHINE = ("cpu_count", "cpu_model", "python", "postgres")


def run_smoke(name: str, results: Path, timeout: float) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", f"bench.{name}", "--smoke", "--results-dir", results],
        cwd=REPO_ROOT,
        env={k: v for k, v in os.environ.items() if k != "DATABASE__URL"},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert proc.stdout.strip().startswith(f"{name}:"), proc.stdout
    payload = json.loads((results / f"{name}.json").read_text())
    assert (results / f"{name}.md").read_text().startswith(f"# Benchmark: {name}")
    return payload


def check_shape(payload: dict, name: str) -> None:
    missing = [key for key in REQUIRED if key not in payload]
    assert not missing, missing
    assert payload["benchmark"] == name
    assert payload["smoke"] is True
    assert payload["met"] in (True, False, None)
    assert isinstance(payload["runs"], int) and payload["runs"] >= 1
    assert all(payload["machine"].get(key) for key in MACHINE), payload["machine"]
    assert isinstance(payload["ratio"], float | int), payload["ratio"]
    assert payload["ratio"] > 0
    for target in payload.get("targets", []):
        assert set(target) == {"name", "value", "limit", "met"}


def extra_ingest(payload: dict) -> None:
    assert payload["project"]["work_items"][0] > 0
    assert payload["baseline"]["values"] and payload["baselines"]["legacy"]["values"]


def extra_claims(payload: dict) -> None:
    assert payload["project"]["per_s"]["values"][0] > 0
    assert payload["baseline"]["duplicates"] == 0


def extra_export(payload: dict) -> None:
    assert payload["project"]["rows"] == payload["baseline"]["rows"] != [0]


def extra_api_read(payload: dict) -> None:
    endpoints = payload["project"]["endpoints"]
    assert all(e["requests_per_s"]["values"][0] > 0 for e in endpoints.values())


def extra_claims_capacity(payload: dict) -> None:
    for side in ("project", "baseline"):
        steps = payload[side]["steps"]
        assert len(steps) == 2, steps
        assert all(step["arrivals"] > 0 and step["errors"] == 0 for step in steps)


def extra_claims_gc(payload: dict) -> None:
    for side in ("project", "baseline"):
        (only,) = payload[side]["runs"]
        assert len(only["steps"]) == 2, only
        assert all(
            step["arrivals"] > 0 and step["errors"] == 0 for step in only["steps"]
        )
    assert payload["project"]["runs"][0]["arm"] == "freeze"
    assert payload["baseline"]["runs"][0]["arm"] == "no freeze"


def extra_scale(payload: dict) -> None:
    operations = payload["project"]["operations"]
    for name in ("claim", "save", "release", "Totals", "ProviderList"):
        assert operations[name]["large"]["p95_s"] > 0, name
    assert operations["download 7 days"]["large"]["rows"][0] > 0
    assert operations["manifest, 1,000 new images"]["large"]["rows"] == [1000] * 3
    fills = payload["project"]["fills"]
    big = fills["6000"]["big_download"]  # all rows at smoke size
    assert big["rows"] > 0 and big["bytes"] > 0 and big["api_peak_rss_mb"] > 0
    assert 0 < big["first_byte_seconds"] <= big["first_mib_seconds"] <= big["seconds"]
    assert [f["rows"]["smartcrop_programimage"] for f in fills.values()] == [
        2000,
        6000,
    ]


def extra_team_stats(payload: dict) -> None:
    assert payload["data"]["audit_rows"] > 0
    assert payload["rows"]["month"] > payload["rows"]["one day"] > 0


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("ingest", extra_ingest),
        ("claims", extra_claims),
        ("export", extra_export),
        ("api_read", extra_api_read),
        ("claims_capacity", extra_claims_capacity),
        ("claims_gc", extra_claims_gc),
        ("scale", extra_scale),
        ("team_stats", extra_team_stats),
    ],
)
def test_benchmark_smoke(name: str, extra, tmp_path: Path) -> None:
    payload = run_smoke(name, tmp_path, 240)
    check_shape(payload, name)
    extra(payload)


@pytest.mark.slow
def test_file_latency_smoke_through_the_daemon(tmp_path: Path) -> None:
    # The real dagster-daemon starts, loads the code location and runs the sensor:
    # this smoke takes a minute or so, not seconds.
    payload = run_smoke("file_latency", tmp_path, 400)
    check_shape(payload, "file_latency")
    assert payload["burst"]["files_done_by_deadline"] == [payload["burst"]["files"]]
