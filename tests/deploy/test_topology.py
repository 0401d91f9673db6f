"""The production topology as separate processes (issue 13), everything real.

Its own two databases on the test PostgreSQL server (SmartCrop's, migrated; Dagster's
storage), a DAGSTER_HOME holding deploy/dagster.yaml (PostgreSQL storage, the queued
run coordinator with one manifest export at a time), ``smartcrop dagster
--keep-instance`` (a code server, the webserver and the daemon) and two API
processes, each ``smartcrop api --workers 2``, on loopback. Then, in order, on that
one deployment (one test: its steps build on each other, and pytest-xdist would
start a deployment per worker for tests that shared it):

1. a manifest dropped into the staging folder is ingested once, by the sensor;
2. operators claim on one API and save on the other, concurrently: no programme
   is given twice;
3. ``POST /batchjob/run`` to both APIs at the same moment: two runs through the
   queue (enqueued by the webserver, launched by the daemon), run one after the
   other by the tag limit, one ``success`` and one ``no_rows``, every rendition in
   exactly one manifest;
4. one API process killed with SIGKILL mid-request: the other serves on, and the
   run the dead one submitted still finishes (it is Dagster's, not the API's);
5. the run worker killed mid-export is marked failed (by the code server that
   started it) and the endpoint answers ``failed``; the next run exports the rows,
   nothing twice.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from dagster import RunsFilter

from tests.deploy.topology_checks import (
    JWT_SECRET,
    LATE_PROGRAMMES,
    LATE_PROVIDER,
    MANIFEST,
    OPERATORS,
    PROGRAMMES,
    PROVIDER,
    login,
    seed_programmes,
    sensor_tick_gaps,
)
from tests.deploy.topology_steps import (
    Deployment,
    a_manifest_is_ingested_by_the_sensor,
    an_api_process_killed_mid_request,
    operators_claim_on_one_api_and_save_on_the_other,
    the_run_worker_killed_mid_export,
    two_exports_at_once_go_through_the_queue,
)
from tests.support.export_setup import base_config, merge, query
from tests.support.topology import production_topology

SENSOR_INTERVAL = 5


@pytest.mark.slow
def test_the_production_topology_as_separate_processes(
    db_url: str, dagster_db: str, make_user, tmp_path: Path
) -> None:
    programmes = seed_programmes(db_url, PROVIDER, PROGRAMMES)
    late = seed_programmes(db_url, LATE_PROVIDER, LATE_PROGRAMMES)
    _, admin_email, admin_password = make_user("admin")
    operators = [make_user("operator") for _ in range(OPERATORS)]
    staging, outbound = tmp_path / "staging", tmp_path / "outbound"
    staging.mkdir()
    config = merge(
        base_config(tmp_path, db_url),
        {
            # The daemon's loop is 5 s: the smallest interval that means what it says.
            "filewatcher": {"sensor_interval_seconds": SENSOR_INTERVAL},
            "smartcrop_service": {"dagster": {"wait_seconds": 120}},
            # Only the API starts exports here: the nightly schedules never come up
            # during the test (29 February).
            "smartcrop_filewatcher_batchjob": {"schedule": "0 2 29 2 *"},
            "smartcrop_dumpdata": {"schedule": "30 2 29 2 *"},
        },
    )
    timings: dict[str, float] = {}
    started = time.monotonic()
    with production_topology(
        tmp_path,
        config,
        dagster_db,
        api_env={"SMARTCROP_SERVICE__AUTH__JWT_SECRET": JWT_SECRET},
        # Room for every run at once: the manifest runs queue on their tag limit.
        max_concurrent_runs=4,
    ) as topology:
        timings["ready"] = time.monotonic() - started
        one, two = (api.base_url for api in topology.apis)
        # A token from one API process works on the other (one shared secret).
        admin = login(one, admin_email, admin_password)
        answer = httpx.get(f"{two}/role/QCdisable", params={"status": 1}, headers=admin)
        assert answer.status_code == 200, answer.text  # saves go straight on
        deployment = Deployment(topology, db_url, one, two, admin, timings)

        a_manifest_is_ingested_by_the_sensor(deployment, tmp_path, staging)
        claims = operators_claim_on_one_api_and_save_on_the_other(
            deployment, operators, programmes
        )
        by_status = two_exports_at_once_go_through_the_queue(
            deployment, outbound, programmes
        )
        claimed = an_api_process_killed_mid_request(deployment, operators, late)
        the_run_worker_killed_mid_export(deployment, outbound, by_status, late, claimed)

        # The sensor ticked all along and never handed the manifest out again.
        assert (
            len(topology.instance.get_runs(RunsFilter(job_name="ingest_manifest"))) == 1
        )
        assert query(
            db_url,
            "SELECT count(*) FROM smartcrop_upload_files WHERE filename = %s",
            (MANIFEST,),
        ) == [(1,)]
        # ... every 5 s, as configured: never a daemon loop skipped, which would make
        # a file wait 10 s (pipelines.sensors.dagster_min_interval).
        gaps = sensor_tick_gaps(topology, "local_staging_sensor")
        assert len(gaps) >= 5, gaps
        assert max(gaps) < 2 * SENSOR_INTERVAL - 0.5, [round(g, 2) for g in gaps]
    print(
        "topology: "
        + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items())
        + f"; {len(claims)} claims"
    )
