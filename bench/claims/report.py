"""The claims benchmark's result: its notes (what profiling found) and files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bench.claims import (
    IMAGES_PER_PROGRAMME,
    MEASURES,
    NAME,
    TARGET_P99_MS,
    WORKERS,
)
from bench.harness.results import Target, fmt, summary_line, write_result
from bench.harness.timing import Stats

NOISE = (
    "Absolute numbers are noisy: other engineers' test suites share this 2-core "
    "machine, and the 16 operator threads run on it too. The SQL baseline runs "
    "interleaved in the same run on the same database, so the ratios are what to "
    "compare."
)

# What profiling found (2026-11-26); quoted in the note when a target is missed.
FINDINGS_DUPLICATES = (
    "Duplicates: a programme was handed out more than once. The first run "
    "(2026-11-26, 239 of them, each an operator handed back the programme they had "
    "just saved) came from the session committing after the response was sent "
    "(FastAPI runs a request-scoped dependency's exit after the response); "
    "api.deps.get_db is now function-scoped, so the commit precedes the 200 "
    "(tests/api/test_commit_before_response.py). Duplicates now mean a regression "
    "there or in smartcrop.workflow.claims."
)
FINDINGS_LATENCY = (
    "Latency: alone, a claim takes {claim} ms and a save {save} ms (one operator, "
    "p50). A claim + save sends {statements} SQL statements ({claim_statements} + "
    "{save_statements}; 24 before 2026-11-26), counted in process with a SQLAlchemy "
    "event listener: each request's user check (kept on every request: a "
    "deactivation or password change must end a token at once); for the claim, "
    "the caller's held programme, then one statement that picks, takes over "
    "expired locks (no separate release), claims and audits, then the answer in "
    "one statement; for the save, the row locks, QA routing (toggle and rule in one "
    "statement, never cached), all renditions in one upsert, the move with its "
    "audit rows (all or nothing without a savepoint) and the answer. The "
    "aspect-ratio lookup comes from a 5-second per-process cache, and requests "
    "hand work to the thread pool 3 times instead of 6-7. Not counted: each "
    "request's pool pre-ping (SELECT 1 at checkout, smartcrop.db.engine) and its "
    "COMMIT. Against the code before, interleaved by hand (2026-11-26, 10 runs "
    "each, medians), that cut the CPU per programme from 16.2 to 10.6 ms in the API "
    "and from 5.1 to 4.0 ms in PostgreSQL; programmes/s went from 58.5 to 89, "
    "claim p50 from 103 to 63 ms and p99 from 313 to 259 ms. The rest is CPU, not "
    "waiting: in these runs each programme finished cost {api} ms "
    "of CPU in the API workers, {pg} ms in PostgreSQL and {client} ms in this load "
    "client ({total} ms; medians), so these 2 cores finish at most about "
    "{ceiling} programmes/s even with nothing else running. In the API that is "
    "mostly per-request framework and driver work (uvicorn, Starlette, FastAPI, "
    "the thread-pool hand-offs, SQLAlchemy and psycopg per statement; "
    "smartcrop.identity's user check alone is about 0.25 ms, half of it SQLAlchemy ORM "
    "overhead) and writing each rendition file: LocalStorage.put costs about 2 ms "
    "of kernel time for an image's first rendition on this disk (new folders at "
    "about 0.33 ms per mkdir, then create and rename; strace -c), some 4 ms per "
    "programme; the SQL baseline writes no file and sends 3 statements. With "
    "16 operators in a closed loop and both cores to ourselves, a claim + save "
    "cycle takes at least 16 x {total} ms / 2 = {cycle} ms, the claim {share}% of "
    "it, so even the median claim cannot be under about {claim_floor} ms; queueing "
    "puts p99 at {spread}x p50 here, so a 50 ms p99 would need about {needed} ms "
    "of CPU per programme in all ({api} ms in the API alone now): out of reach on "
    "this machine with HTTP, Python and a file per rendition, whatever the SQL. "
    "More workers do not help: tried by hand (2026-11-26, same load), 1 worker did "
    "64-80 programmes/s, 2 did 80-99 and 4 did 73-75."
)


def report(
    args: argparse.Namespace,
    *,
    n_operators: int,
    programmes: int,
    workers: int,
    project: dict[str, Stats],
    baseline: dict[str, Stats],
    duplicates: dict[str, int],
    runs: list[dict[str, Any]],
    errors: list[str],
    serial: dict[str, Any],
    cpu: dict[str, Stats],
    targets: list[Target],
    met: bool | None,
    profile_result: dict[str, Any],
    profile_path: Path | None,
    machine: dict[str, Any],
    served: int,
) -> dict[str, Any]:
    """Notes, ``claims.json`` and ``claims.md`` from what a run measured."""
    slower = baseline["per_s"].median / project["per_s"].median
    p99_ratio = project["claim_p99_ms"].median / baseline["claim_p99_ms"].median
    notes = [NOISE]
    compose = ", deploy/compose.yaml's count (one per core here)"
    notes.append(
        f"Each loop is claim + save of a {IMAGES_PER_PROGRAMME}-image programme; "
        f"'per s' counts programmes finished. uvicorn runs with {workers} worker(s)"
        f"{compose if workers == WORKERS else ''}; the README names no worker "
        "count (smartcrop api serves with one unless given --workers N, and for "
        "Kubernetes it suggests several replicas). The one-operator run gives the "
        "service time without queueing: "
        f"claim p50 {serial.get('claim_p50_ms')} ms, save p50 "
        f"{serial.get('save_p50_ms')} ms."
    )
    claim_statements = profile_result.get("claim_statements")
    save_statements = profile_result.get("save_statements")
    if profile_result and profile_path:
        cycles = profile_result["cycles"]
        notes.append(
            f"In process (no HTTP), one operator did {cycles} claim+save cycles in "
            f"{profile_result['seconds']:.2f} s "
            f"({profile_result['seconds'] / max(cycles, 1) * 1000:.1f} ms each); "
            "see profiles/claims.txt."
        )
    if errors:
        notes.append(f"Errors: {errors[:5]}")
    if served:
        notes.append(f"{served} source-image requests reached the loopback server.")
    cpu_total = sum(stats.median for stats in cpu.values()) if cpu["api"].values else 0
    if not args.smoke:
        if duplicates["project"]:
            notes.append(FINDINGS_DUPLICATES)
        if targets[0].met is False and cpu_total and claim_statements is not None:
            claim_p50 = project["claim_p50_ms"].median
            claim_share = claim_p50 / (claim_p50 + project["save_p50_ms"].median)
            cycle = n_operators * cpu_total / 2  # ms, both cores ours alone
            spread = project["claim_p99_ms"].median / claim_p50
            notes.append(
                FINDINGS_LATENCY.format(
                    claim=serial.get("claim_p50_ms"),
                    save=serial.get("save_p50_ms"),
                    statements=fmt(claim_statements + save_statements),
                    claim_statements=fmt(claim_statements),
                    save_statements=fmt(save_statements),
                    api=fmt(cpu["api"].median),
                    pg=fmt(cpu["postgres"].median),
                    client=fmt(cpu["client"].median),
                    total=fmt(cpu_total),
                    ceiling=fmt(2000 / cpu_total),
                    cycle=fmt(cycle),
                    share=fmt(claim_share * 100),
                    claim_floor=fmt(cycle * claim_share),
                    spread=fmt(spread),
                    needed=fmt(TARGET_P99_MS / spread / claim_share * 2 / n_operators),
                )
            )
    if args.smoke:
        notes.append("Smoke run: tiny data; the numbers mean nothing.")

    def block(stats: dict[str, Stats]) -> dict[str, Any]:
        return {m: stats[m].as_dict(2) for m in MEASURES}

    payload: dict[str, Any] = {
        "metric": (
            f"{n_operators} concurrent operators, claim + save per programme "
            f"({programmes} programmes of {IMAGES_PER_PROGRAMME} images per run): "
            "programmes/s, claim latency p50/p99, duplicates"
        ),
        "unit": "programmes/s",
        "seed": args.seed,
        "smoke": args.smoke,
        "operators": n_operators,
        "workers": workers,
        "programmes_per_run": programmes,
        "project": {
            "name": f"HTTP: GetImageInfo + SaveCropedImages, uvicorn x {workers}",
            **block(project),
            "duplicates": duplicates["project"],
        },
        "baseline": {
            "name": "bare SQL, FOR UPDATE SKIP LOCKED claim + insert/update save",
            **block(baseline),
            "duplicates": duplicates["baseline"],
        },
        "ratio": round(slower, 3),
        "ratios": {
            "baseline_per_s_over_project": round(slower, 3),
            "project_claim_p99_over_baseline": round(p99_ratio, 3),
        },
        "one_operator": serial,
        "cpu_ms_per_programme": {key: stats.as_dict(2) for key, stats in cpu.items()},
        "statements_per_request": {
            "claim": claim_statements,
            "save": save_statements,
        },
        "target": f"claim p99 <= {TARGET_P99_MS:g} ms over HTTP; 0 duplicates",
        "targets": [t.as_dict() for t in targets],
        "met": met,
        "runs": args.runs,
        "per_run": runs,
        "profile": (
            str(profile_path.relative_to(args.results_dir)) if profile_path else None
        ),
        "machine": machine,
        "note": " ".join(notes),
        "project_headline": f"{fmt(project['per_s'].median)} programmes/s",
        "baseline_headline": f"{fmt(baseline['per_s'].median)} programmes/s",
    }
    table = [
        (
            "variant",
            "programmes/s",
            "claim p50",
            "claim p99",
            "save p50",
            "save p99",
            "duplicates",
        ),
        *(
            (
                label,
                fmt(stats["per_s"].median),
                fmt(stats["claim_p50_ms"].median, "ms"),
                fmt(stats["claim_p99_ms"].median, "ms"),
                fmt(stats["save_p50_ms"].median, "ms"),
                fmt(stats["save_p99_ms"].median, "ms"),
                str(duplicates[kind]),
            )
            for label, stats, kind in (
                (f"project: HTTP, {n_operators} operators", project, "project"),
                ("baseline: bare SQL, SKIP LOCKED", baseline, "baseline"),
            )
        ),
    ]
    payload = write_result(args.results_dir, NAME, payload, table)
    print(summary_line(payload))
    return payload
