"""The export jobs on a real Dagster instance: lineage, metadata and asset checks."""

from __future__ import annotations

from dagster import AssetCheckSeverity, AssetKey

from tests.exports.scenario import EXPORTED, scenario
from tests.support.export_setup import CDN, ORIGIN, add_image, query, set_qa_disabled


def _checks(result) -> dict[str, bool]:  # noqa: ANN001
    return {
        evaluation.check_name: evaluation.passed
        for evaluation in result.get_asset_check_evaluations()
    }


def _metadata(result, node: str) -> dict:  # noqa: ANN001
    [materialization] = result.asset_materializations_for_node(node)
    return {key: value.value for key, value in materialization.metadata.items()}


def test_the_manifest_job_exports_stamps_and_passes_its_checks(pipeline) -> None:
    pipeline.configure(
        smartcrop_service={
            **pipeline.config["smartcrop_service"],
            "cdn": {"origin_base_url": ORIGIN, "rewrite_base_url": CDN},
        }
    )
    scenario(pipeline.db_url)
    set_qa_disabled(pipeline.db_url, True)
    job = pipeline.definitions().resolve_job_def("nightly_manifest_job")

    result = job.execute_in_process(instance=pipeline.instance)

    assert result.success
    prepared = _metadata(result, "completed_renditions")
    assert prepared["completed_from_qa"] == 1  # image 301 waited in QA
    assert prepared["resolved_image_types"] == 1  # image 102's "key art"
    exported = _metadata(result, "nightly_manifest")
    name = exported["file"]
    assert exported["status"] == "success"
    assert name.startswith("SmartCrop_Manifest_") and name.endswith(".csv")
    assert (exported["rows"], exported["images"], exported["targets"]) == (11, 4, [])
    assert _checks(result) == {
        "completed_images_have_renditions": True,  # 601 has none, but is not done
        "every_row_stamped_with_this_file": True,
        "no_row_stamped_twice": True,
    }
    stamped = query(
        pipeline.db_url,
        "SELECT id FROM smartcrop_programimage WHERE outputfilename = %s",
        (name,),
    )
    assert {row[0] for row in stamped} == EXPORTED | {301}
    assert (pipeline.tmp / "outbound" / name).is_file()
    # The run and its materialisation are on the instance the UI reads.
    run = pipeline.instance.get_run_by_id(result.run_id)
    assert run is not None and run.job_name == "nightly_manifest_job"
    event = pipeline.instance.get_latest_materialization_event(
        AssetKey("nightly_manifest")
    )
    assert event is not None and event.run_id == result.run_id

    again = job.execute_in_process(instance=pipeline.instance)
    assert again.success
    assert _metadata(again, "nightly_manifest")["status"] == "no_rows"


def test_completed_images_without_renditions_warn_and_stay_unexported(
    pipeline,
) -> None:
    add_image(pipeline.db_url, image_id=11, program_id="SH1")
    for image_id, program in ((12, "SH2"), (13, "SH2"), (14, "EP3")):
        add_image(pipeline.db_url, image_id=image_id, program_id=program, ratios=())
    # Not the check's business: not completed, or already in a manifest.
    add_image(pipeline.db_url, image_id=15, program_id="SH4", status=2, ratios=())
    add_image(
        pipeline.db_url,
        image_id=16,
        program_id="SH5",
        output_file="SmartCrop_Manifest_20261120_020000.csv",
        ratios=(),
    )
    job = pipeline.definitions().resolve_job_def("nightly_manifest_job")

    result = job.execute_in_process(instance=pipeline.instance)

    assert result.success  # the manifest of the others is sent and stamped
    assert _metadata(result, "nightly_manifest")["images"] == 1
    [check] = [
        e
        for e in result.get_asset_check_evaluations()
        if e.check_name == "completed_images_have_renditions"
    ]
    assert check.asset_key == AssetKey("completed_renditions")
    assert not check.passed and check.severity == AssetCheckSeverity.WARN
    metadata = {key: value.value for key, value in check.metadata.items()}
    assert metadata["images"] == 3
    assert metadata["program_ids"] == ["EP3", "SH2"]
    assert "image 14: ProgramId EP3" in metadata["first_images"]
    assert query(
        pipeline.db_url,
        "SELECT id FROM smartcrop_programimage"
        " WHERE status = 3 AND outputfilename IS NULL ORDER BY id",
    ) == [(12,), (13,), (14,)]


def test_a_failed_upload_fails_the_run_and_stamps_nothing(pipeline) -> None:
    # An SFTP target with no server configured: a permanent failure, no retries.
    pipeline.configure(smartcrop_filewatcher_batchjob={"targets": ["sftp"]})
    add_image(pipeline.db_url, program_id="SH1")
    job = pipeline.definitions().resolve_job_def("nightly_manifest_job")

    result = job.execute_in_process(instance=pipeline.instance, raise_on_error=False)

    assert not result.success
    assert query(
        pipeline.db_url,
        "SELECT count(*) FROM smartcrop_programimage WHERE outputfilename IS NULL",
    ) == [(1,)]


def test_lineage_runs_from_provider_files_to_the_shipped_files(pipeline) -> None:
    graph = pipeline.definitions().resolve_asset_graph()
    parents = {
        key.to_user_string(): {p.to_user_string() for p in graph.get(key).parent_keys}
        for key in graph.get_all_asset_keys()
    }
    assert parents["completed_renditions"] == {"work_items"}
    assert parents["nightly_manifest"] == {"completed_renditions"}
    assert parents["dump_snapshots"] == {"work_items"}
    assert parents["work_items"] == {"manifest_rows"}


def test_the_dump_job_takes_its_day_count_from_run_config(pipeline) -> None:
    add_image(pipeline.db_url, program_id="SH1")
    job = pipeline.definitions().resolve_job_def("dump_snapshots_job")

    result = job.execute_in_process(
        instance=pipeline.instance,
        run_config={"ops": {"dump_snapshots": {"config": {"date_range": 5}}}},
    )

    assert result.success
    metadata = _metadata(result, "dump_snapshots")
    assert metadata["date_range"] == 5
    assert [name.split("_2")[0] for name in metadata["files"]] == [
        "SmartCrop_Program",
        "SmartCrop_Aspect",
        "SmartCrop_Summary",
        "SmartCrop_Audit",
    ]
    # No SFTP host in the test settings: the files stay in local_path.
    assert sorted(p.name for p in (pipeline.tmp / "dumps").iterdir()) == sorted(
        metadata["files"]
    )

    refused = job.execute_in_process(
        instance=pipeline.instance,
        run_config={"ops": {"dump_snapshots": {"config": {"date_range": 31}}}},
        raise_on_error=False,
    )
    assert not refused.success
