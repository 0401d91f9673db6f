"""The ingest benchmark (``python -m bench.ingest``, the run in ``__main__``): its
sizes and targets. ``tasks`` holds the measured runs (each in a child process),
``report`` the notes and result files."""

NAME = "ingest"
FULL_ROWS = 100_000
SMOKE_ROWS = 300
MODULE = "bench.ingest"
FILE_NAME = "NBCU_bench_{rows}.xlsx"  # NBCU_: the press-site layout

TARGET_VS_FLOOR = 2.0
TARGET_VS_LEGACY = 10.0
TARGET_RSS_MB = 400.0
# A project run still going after this is stopped and not repeated (make bench must
# stay under 10 minutes); the domain steps are then timed with an ANALYZE added.
PROJECT_TIMEOUT_SECONDS = 90.0
