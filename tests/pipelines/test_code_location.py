"""The Dagster code location loads as the UI and daemon load it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster import Definitions

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_workspace_loads_and_validates(tmp_path: Path) -> None:
    dagster = Path(sys.executable).parent / "dagster"
    result = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO_ROOT,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Validation successful for code location smartcrop" in output


def test_definitions_carry_the_shared_resources() -> None:
    from pipelines.definitions import defs

    Definitions.validate_loadable(defs)
    resources = defs.resources or {}
    assert {"database", "settings", "s3", "sftp", "rendition_storage"} <= set(resources)


def test_the_run_tags_we_spell_are_still_dagster_s() -> None:
    """pipelines.tags spells Dagster's partition tags (its public API does not export
    them); a Dagster upgrade that renamed one would silently break batch runs."""
    from dagster._core.storage import tags as dagster_tags

    from pipelines import tags

    assert tags.PARTITION_TAG == dagster_tags.PARTITION_NAME_TAG
    assert tags.PARTITION_RANGE_START_TAG == (
        dagster_tags.ASSET_PARTITION_RANGE_START_TAG
    )
    assert tags.PARTITION_RANGE_END_TAG == dagster_tags.ASSET_PARTITION_RANGE_END_TAG


def test_every_queue_limit_matches_the_runs_of_its_job() -> None:
    """A tag limit of the run queue whose tag no run carries limits nothing, silently
    (both instances once keyed theirs on ``dagster/job_name``, a tag Dagster never
    sets): each must match the tags of the job it names, and only that job's, both
    the run tags (copied by sensors and schedules) and the definition tags (copied
    onto a run launched through GraphQL: the UI, the API's submissions)."""
    import yaml

    from pipelines.definitions import defs

    jobs = {job.name: job for job in defs.resolve_all_job_defs()}
    for path in (REPO_ROOT / "dagster.yaml", REPO_ROOT / "deploy" / "dagster.yaml"):
        config = yaml.safe_load(path.read_text())["run_coordinator"]["config"]
        limits = config["tag_concurrency_limits"]
        assert {limit["value"] for limit in limits} == {
            "nightly_manifest_job",
            "suggest_crops",
        }
        for limit in limits:
            limited = [
                name
                for name, job in jobs.items()
                if job.run_tags.get(limit["key"]) == limit["value"]
                and job.tags.get(limit["key"]) == limit["value"]
            ]
            assert limited == [limit["value"]], (path.name, limit)


def test_every_asset_check_is_on_its_asset_and_in_the_job_that_makes_it() -> None:
    """The checks show in the UI beside their asset (lineage) and run with it."""
    from pipelines.definitions import defs

    def checks_of(graph) -> set[tuple[str, str]]:  # noqa: ANN001
        return {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}

    assert checks_of(defs.resolve_asset_graph()) == {
        ("manifest_rows", "rejected_rows"),
        ("manifest_rows", "files_readable"),
        ("work_items", "every_row_has_a_work_item"),
        ("work_items", "duplicates"),
        ("completed_renditions", "completed_images_have_renditions"),
        ("nightly_manifest", "every_row_stamped_with_this_file"),
        ("nightly_manifest", "no_row_stamped_twice"),
        ("crop_suggestions", "images_fetched"),
    }
    ingest = defs.resolve_job_def("ingest_manifest").asset_layer.asset_graph
    manifest = defs.resolve_job_def("nightly_manifest_job").asset_layer.asset_graph
    assert ("work_items", "every_row_has_a_work_item") in checks_of(ingest)
    assert ("completed_renditions", "completed_images_have_renditions") in checks_of(
        manifest
    )
