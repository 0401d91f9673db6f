"""One partition per provider file, and the assets partitioned by them.

The ingestion assets and ``crop_suggestions`` are ``file_asset``s: partitioned by
``manifest_files`` (one dynamic partition per delivered file) and run a batch of files
as one run (``BackfillPolicy.single_run``): starting a run costs seconds of process
start-up, a small file's steps a fraction of one (see bench/README.md).
"""

# No `from __future__ import annotations` here: Dagster reads the annotations of
# asset functions at run time to find their config and resources.
import warnings
from collections.abc import Callable
from typing import Any

from dagster import (
    AssetsDefinition,
    BackfillPolicy,
    BetaWarning,
    DynamicPartitionsDefinition,
    asset,
)

# The partitions' name, for the instance's calls that take it (the definition's own
# ``name`` is optional in its type).
MANIFEST_PARTITIONS = "manifest_files"
manifest_partitions = DynamicPartitionsDefinition(name=MANIFEST_PARTITIONS)

# A batch of files is one run; a backfill of many partitions from the UI is one run
# per this many partitions.
BATCH_POLICY = BackfillPolicy.single_run()


def file_asset(**kwargs: Any) -> Callable[[Callable[..., Any]], AssetsDefinition]:
    """``@asset`` partitioned by provider file, a batch of files run as one run."""
    # Dagster 1.13 marks ``backfill_policy`` beta and warns, once per asset, in every
    # process that defines one (the code server, each run worker, the CLI). Batching
    # is deliberate (see the module's docstring), so that one warning is ignored here,
    # where it is raised; every other beta warning still shows.
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r"Parameter `backfill_policy`", category=BetaWarning
        )
        decorator: Callable[[Callable[..., Any]], AssetsDefinition] = asset(
            partitions_def=manifest_partitions, backfill_policy=BATCH_POLICY, **kwargs
        )
    return decorator
