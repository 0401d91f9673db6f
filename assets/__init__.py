"""Dagster assets and asset checks (the code location's, loaded by pipelines/).

The ingestion and suggestion assets declare a ``backfill_policy`` (one run for a
backfill of many partitions), which Dagster 1.13 marks beta: it warns once per asset
in every process that imports them (the code server, each run worker, the CLI). The
choice is deliberate, so that one warning is filtered here, before any asset module
is imported; other beta warnings still show.
"""

import warnings

from dagster import BetaWarning

warnings.filterwarnings(
    "ignore", message=r"Parameter `backfill_policy`", category=BetaWarning
)
