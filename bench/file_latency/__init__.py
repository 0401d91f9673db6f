"""The file-latency benchmark (``python -m bench.file_latency``, the run in
``__main__``): its sizes and targets. ``daemon`` runs dagster-daemon and lands the
files, ``runs`` reads Dagster's run records (where a run's time goes),
``in_process`` is the profiled child task, ``report`` the notes and result files."""

NAME = "file_latency"
MODULE = "bench.file_latency"
# Dagster's sensor daemon evaluates sensors at most every 5 s
# (dagster._daemon.sensor.MIN_INTERVAL_LOOP_TIME), so a smaller interval changes
# nothing: 5 s is the smallest interval that means what it says.
SENSOR_INTERVAL = 5
EXTRA_SECONDS = 3.0  # target (a): interval + 3 s
BURST_FILES = 200
BURST_TARGET_SECONDS = 180.0
ROWS_PER_FILE = 20
# The sensor's wait is anywhere from 1 s (settle) to 6 s: a median of three such
# waits moved the result by seconds from run to run.
SINGLE_RUNS = 7
SMOKE_BURST_FILES = 2
DAEMON_READY_TIMEOUT = 180.0
# A burst not done by then is stopped; its total is projected from its rate (keeps
# make bench under 10 minutes). 0 waits for every file.
BURST_DEADLINE_SECONDS = 180.0
