"""The claims benchmark (``python -m bench.claims``, the run in ``__main__``): its
workload and target. ``loops`` holds the operators' loops (HTTP and bare SQL),
``cpu`` where a run's CPU goes, ``in_process`` the requests counted and profiled in
process, ``report`` the notes and result files."""

NAME = "claims"
MODULE = "bench.claims"
OPERATORS = 16
# deploy/compose.yaml serves the API with 2 workers, one per core of this machine.
WORKERS = 2
PROGRAMMES = 800
IMAGES_PER_PROGRAMME = 2
MAX_SECONDS = 120.0  # a loop still going then stops (bounded)
SMOKE_PROGRAMMES = 12
SMOKE_OPERATORS = 3
TARGET_P99_MS = 50.0
MEASURES = ("per_s", "claim_p50_ms", "claim_p99_ms", "save_p50_ms", "save_p99_ms")
