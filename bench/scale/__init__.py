"""The scale benchmark (``python -m bench.scale``, the run in ``__main__``): its sizes,
samples and targets. ``data`` fills a database with a year of work, ``operations``
times the API's operations on it, ``download`` the XLSX of a million rows."""

NAME = "scale"
FULL_SIZES = (100_000, 3_000_000)
SMOKE_SIZES = (2_000, 6_000)
PROVIDERS = ("NBCU", "Disney", "TMDB", "Sling", "Paramount", "Warner")
OPERATORS = 30
REVIEWERS = 10
WORKERS = 2
FLAT_P95_MS = 100.0
FLAT_GROWTH = 1.5
LATER_PAGE_MS = 1000.0
MANIFEST_IMAGES = 1000
CLAIM_SAMPLES_FACTOR = 3
DOWNLOAD_SAMPLES = 5  # 30 s each at 3M work items (270,000 rows)
DEFAULT_SAMPLES = 40  # the issue asks for at least 20; a p95 of 40 is steadier
BIG_DOWNLOAD_ROWS = 1_000_000  # at the large size; its memory target is 400 MB
BIG_DOWNLOAD_RSS_MB = 400.0
# Streamed as it is written: rows reach the client within seconds, not at the end.
BIG_DOWNLOAD_FIRST_MIB_S = 5.0
