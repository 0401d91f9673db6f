"""What the benchmarks share, one module per concern.

- ``cli``: the command line every benchmark takes (``parse_args``) and ``log``;
  ``paths``: the repository and ``bench/results``.
- Data: ``manifest`` makes a seeded provider manifest (20 columns, the quirks
  providers send) and ``xlsx`` writes it as a real ``.xlsx`` (shared strings, a date
  style, a title above the header) quickly, without a spreadsheet library; ``seed``
  puts users and work items straight into the workflow tables.
- PostgreSQL: ``database.BenchDatabase`` starts the project's embedded server
  (``smartcrop.db.embedded.embedded_url``) in a temporary folder, migrates one
  template database and clones a fresh database from it for every measured run;
  ``config`` writes a settings file and a DAGSTER_HOME under a temporary folder.
- Servers: ``servers`` runs ``smartcrop api`` (or any server) on loopback and logs
  in; ``images`` serves source images on loopback; ``load`` is a bounded GET loop;
  ``claim_cycle`` is the claim + save cycle (over HTTP and as bare SQL) that the
  claims benchmarks and ``scale`` share.
- Timing: each measured run is a child process (``child.run_child``) that times only
  the work with ``time.perf_counter`` and reports back; its peak RSS comes from
  ``os.wait4``. ``timing.Stats`` gives the median and min over the runs;
  ``profiling`` adds an optional pyinstrument profile.
- Results: ``results.write_result`` writes ``NAME.json`` (the keys benchmark, metric,
  project, baseline, ratio, target, met, runs, machine, ...) and ``NAME.md`` beside
  it.

The absolute numbers move with whatever else the machine runs; the baselines are
measured in the same run, so the ratios are what to compare between runs.
"""

import warnings

# The embedded-server package asks platformdirs for a runtime folder; machines
# without a login session have none, and the warning says nothing about the benchmark.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
