"""Dagster's own run tags that the pipelines set or read.

Dagster's public API does not export these names (they live in a private module), but
the values are its documented interface: a run tagged with a partition range runs
that range as one run (the assets' ``BackfillPolicy.single_run``). Spelled here once;
``tests/pipelines/test_code_location.py`` checks they are still Dagster's.
"""

PARTITION_TAG = "dagster/partition"
PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"
