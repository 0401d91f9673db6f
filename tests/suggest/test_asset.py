"""The ``crop_suggestions`` asset on a real Dagster instance and PostgreSQL, fetching
from a real HTTP server on loopback: good images, a broken one, a slow one (beyond
the timeout), a missing one and an HTML page. Each outcome is recorded; the run never
fails for them; a re-run fetches only what failed."""

from __future__ import annotations

import os
import time
from pathlib import Path

from dagster import AssetKey, DagsterEventType, build_run_status_sensor_context

from samples.demo import scenes
from tests.support.image_server import Route, allowing, encode, serve
from tests.support.manifest_samples import query
from tests.support.pipelines import keys_of
from tests.support.workbooks import PRESS_HEADERS, press_row, write_xlsx

FAST = {
    "ops": {
        "crop_suggestions": {
            "config": {"read_timeout_seconds": 1.0, "deadline_seconds": 4.0}
        }
    }
}


def _stage_manifest(pipeline, name: str, rows: list[list]) -> None:
    path = write_xlsx(pipeline.staging / name, [PRESS_HEADERS, *rows])
    past = time.time() - 10  # settled: the sensor waits for files being written
    os.utime(path, (past, past))


def _allow(pipeline, *base_urls: str) -> None:
    """Allow the loopback image server in the fetch policy (the default refuses it:
    tests/security/test_ssrf_fetchers.py)."""
    pipeline.configure(
        smartcrop_service={"image_fetch": {"allowed_hosts": allowing(*base_urls)}}
    )


def _ingest(pipeline) -> str:
    result = pipeline.tick("local_staging_sensor")
    runs = pipeline.run(result)
    assert runs and all(run.success for run in runs)
    return result.run_requests[0].partition_key


def _fetches(db_url: str) -> dict[str, tuple]:
    rows = query(
        db_url,
        "SELECT p.imageurl, f.status, f.reason, f.httpstatus, f.attempts,"
        " f.imagewidth, f.imageheight"
        " FROM smartcrop_imagefetch f JOIN smartcrop_programimage p"
        " ON p.id = f.programimageid",
    )
    return {Path(r[0]).name: r[1:] for r in rows}


def _suggestions(db_url: str) -> dict[str, list[tuple]]:
    rows = query(
        db_url,
        "SELECT p.imageurl, s.aspectratioid, s.x, s.y, s.width, s.height, s.method,"
        " s.score FROM smartcrop_cropsuggestion s JOIN smartcrop_programimage p"
        " ON p.id = s.programimageid ORDER BY p.id, s.aspectratioid",
    )
    found: dict[str, list[tuple]] = {}
    for url, *rest in rows:
        found.setdefault(Path(url).name, []).append(tuple(rest))
    return found


def test_each_image_outcome_is_recorded_and_the_run_goes_on(pipeline) -> None:
    face = scenes.face_scene(1280, 720, [(0.82, 0.35)], 160, seed=1)
    balloon = scenes.object_scene(1920, 1080, (0.12, 0.25, 0.15), seed=2)
    routes = {
        "/face.jpg": Route(encode(face.image)),
        "/balloon.png": Route(encode(balloon.image, "PNG"), "image/png"),
        "/broken.jpg": Route(b"\xff\xd8\xff\xe0 this is no JPEG at all"),
        "/slow.jpg": Route(encode(face.image), delay=3),
        "/page.html": Route(b"<html>Moved</html>", "text/html"),
    }
    with serve(routes) as (base, requested):
        _allow(pipeline, base)
        _stage_manifest(
            pipeline,
            "NBCU_SUGGEST.xlsx",
            [
                press_row("SH000000000001", Image_URL=f"{base}/face.jpg"),
                press_row(
                    "SH000000000001",
                    Image_URL=f"{base}/balloon.png",
                    Width=1920,
                    Height=1080,
                ),
                press_row("SH000000000002", Image_URL=f"{base}/broken.jpg"),
                press_row("SH000000000002", Image_URL=f"{base}/slow.jpg"),
                press_row("SH000000000003", Image_URL=f"{base}/missing.jpg"),
                press_row("SH000000000003", Image_URL=f"{base}/page.html"),
            ],
        )
        key = _ingest(pipeline)
        assert requested == []  # ingestion itself fetches no image
        job = pipeline.definitions().resolve_job_def("suggest_crops")
        run = job.execute_in_process(
            partition_key=key,
            run_config=FAST,
            instance=pipeline.instance,
            raise_on_error=False,
        )
        assert run.success
        first_round = sorted(requested)

        fetches = _fetches(pipeline.db_url)
        assert fetches["face.jpg"][:4] == ("ok", None, 200, 1)
        assert fetches["balloon.png"][:4] == ("ok", None, 200, 1)
        assert fetches["broken.jpg"][0] == "failed"
        assert "not a readable image" in fetches["broken.jpg"][1] or (
            "cannot be decoded" in fetches["broken.jpg"][1]
        )
        assert fetches["slow.jpg"][:2] == (
            "failed",
            "the server did not answer in time (reading timed out)",
        )
        assert fetches["missing.jpg"][:3] == (
            "failed",
            "the server answered HTTP 404",
            404,
        )
        assert fetches["page.html"][:2] == (
            "failed",
            "it is not an image (the server sent text/html)",
        )

        suggestions = _suggestions(pipeline.db_url)
        assert set(suggestions) == {"face.jpg", "balloon.png"}
        assert [s[0] for s in suggestions["face.jpg"]] == [1, 2, 3, 4, 5]
        head = face.faces[0]
        for _, x, y, w, h, method, _ in suggestions["face.jpg"]:
            assert method == "face"
            assert x <= head.x and y <= head.y
            assert x + w >= head.right and y + h >= head.bottom
            assert x + w <= 1280 and y + h <= 720
        assert {s[5] for s in suggestions["balloon.png"]} == {"saliency"}

        # The size of the image without one is stored; a declared one is kept.
        sizes = dict(
            (Path(url).name, (w, h))
            for url, w, h in query(
                pipeline.db_url,
                "SELECT imageurl, width, height FROM smartcrop_programimage",
            )
        )
        assert sizes["face.jpg"] == (1280, 720)
        assert sizes["balloon.png"] == (1920, 1080)
        assert sizes["broken.jpg"] == (None, None)

        checks = {c.check_name: c for c in run.get_asset_check_evaluations()}
        assert checks["images_fetched"].passed is False
        assert checks["images_fetched"].metadata["failed"].value == 4

        # Re-running the partition fetches only what failed, once more.
        again = job.execute_in_process(
            partition_key=key,
            run_config=FAST,
            instance=pipeline.instance,
            raise_on_error=False,
        )
        assert again.success
        second_round = sorted(requested[len(first_round) :])
    assert first_round == sorted(
        [
            "/face.jpg",
            "/balloon.png",
            "/broken.jpg",
            "/slow.jpg",
            "/missing.jpg",
            "/page.html",
        ]
    )
    assert second_round == sorted(
        ["/broken.jpg", "/slow.jpg", "/missing.jpg", "/page.html"]
    )
    fetches = _fetches(pipeline.db_url)
    assert fetches["face.jpg"][3] == 1 and fetches["missing.jpg"][3] == 2
    assert _suggestions(pipeline.db_url)["face.jpg"] == suggestions["face.jpg"]


def test_an_unreachable_server_fails_no_run(pipeline) -> None:
    # The API is not up yet at `make up`'s first ingestion: the demo's images are
    # unreachable then, and are suggested on demand later.
    _allow(pipeline, "http://127.0.0.1:9")
    _stage_manifest(
        pipeline,
        "NBCU_OFFLINE.xlsx",
        [press_row("SH000000000009", Image_URL="http://127.0.0.1:9/nothing.jpg")],
    )
    key = _ingest(pipeline)
    job = pipeline.definitions().resolve_job_def("suggest_crops")
    run = job.execute_in_process(
        partition_key=key, instance=pipeline.instance, raise_on_error=False
    )
    assert run.success
    status, reason, *_ = _fetches(pipeline.db_url)["nothing.jpg"]
    assert status == "failed" and reason.startswith("it could not be fetched")


def test_the_sensor_asks_for_suggestions_after_each_ingested_file(pipeline) -> None:
    _stage_manifest(pipeline, "NBCU_SENSOR.xlsx", [press_row("SH000000000010")])
    key = _ingest(pipeline)
    run = next(
        r
        for r in pipeline.instance.get_runs()
        if r.job_name == "ingest_manifest" and r.tags.get("dagster/partition") == key
    )
    success = pipeline.instance.get_records_for_run(
        run.run_id, of_type=DagsterEventType.RUN_SUCCESS
    ).records[0]
    defs = pipeline.definitions()
    sensor = defs.resolve_sensor_def("suggest_crops_after_ingest")
    context = build_run_status_sensor_context(
        sensor_name=sensor.name,
        dagster_event=success.event_log_entry.dagster_event,
        dagster_instance=pipeline.instance,
        dagster_run=run,
    )
    request = sensor(context)
    assert request.partition_key == key
    assert request.run_key == f"suggest-{run.run_id}"
    # Queued behind ingestion runs, which operators are waiting for.
    assert int(request.tags["dagster/priority"]) < 0
    assert defs.resolve_job_def("suggest_crops").partitions_def is not None


def test_a_batch_of_files_gets_one_suggestion_run_over_its_range(pipeline) -> None:
    face = scenes.face_scene(640, 360, [(0.3, 0.4)], 80, seed=3)
    routes = {f"/a{n}.jpg": Route(encode(face.image)) for n in (1, 2)}
    with serve(routes) as (base, requested):
        _allow(pipeline, base)
        for n in (1, 2):
            _stage_manifest(
                pipeline,
                f"NBCU_BATCH_{n}.xlsx",
                [press_row(f"SH00000000002{n}", Image_URL=f"{base}/a{n}.jpg")],
            )
        result = pipeline.tick("local_staging_sensor")
        [ingest_run] = pipeline.run(result)
        assert ingest_run.success
        run = pipeline.instance.get_run_by_id(ingest_run.run_id)
        success = pipeline.instance.get_records_for_run(
            run.run_id, of_type=DagsterEventType.RUN_SUCCESS
        ).records[0]
        sensor = pipeline.definitions().resolve_sensor_def("suggest_crops_after_ingest")
        request = sensor(
            build_run_status_sensor_context(
                sensor_name=sensor.name,
                dagster_event=success.event_log_entry.dagster_event,
                dagster_instance=pipeline.instance,
                dagster_run=run,
            )
        )
        # The same range as the ingestion run: one suggestion run for the batch.
        assert request.partition_key is None
        assert request.partition_key_range == result.run_requests[0].partition_key_range
        suggest = (
            pipeline.definitions()
            .resolve_job_def("suggest_crops")
            .execute_in_process(
                run_config=FAST,
                instance=pipeline.instance,
                tags=request.tags,
                raise_on_error=False,
            )
        )
        assert suggest.success
        assert sorted(requested) == ["/a1.jpg", "/a2.jpg"]
    assert sorted(_suggestions(pipeline.db_url)) == ["a1.jpg", "a2.jpg"]
    materialized = pipeline.instance.get_materialized_partitions(
        AssetKey("crop_suggestions")
    )
    assert materialized == set(keys_of(result))
