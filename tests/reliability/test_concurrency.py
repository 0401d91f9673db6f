"""Racing for the same thing: one file delivered through three doors at once, and
10,000 claims from 32 operators spread over two API processes on one database."""

from __future__ import annotations

import collections
import itertools
import os
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from smartcrop.db import libpq_url
from smartcrop.ingestion import landing
from tests.support import corpus
from tests.support.api_process import SMARTCROP, api_process, write_config
from tests.support.manifest_samples import query


def test_the_checksum_lock_lets_one_of_many_simultaneous_records_win(
    db_url: str, tmp_path: Path
) -> None:
    """smartcrop.ingest.record_file from 12 threads released together, each for its
    own delivery (partition) of the same bytes: one is new, eleven are skipped."""
    path = tmp_path / "NBCU_same.xlsx"
    path.write_bytes(corpus.good("SH7C", 5))
    barrier = threading.Barrier(12)
    records: list[landing.FileRecord] = []

    def deliver(n: int) -> None:
        with psycopg.connect(libpq_url(db_url), autocommit=True) as conn:
            barrier.wait()
            records.append(
                landing.record_file(
                    conn,
                    partition_key=f"delivery-{n}",
                    path=path,
                    filename=path.name,
                    source=("local", "cli", "api", "s3")[n % 4],
                    source_path=f"/somewhere/{n}/{path.name}",
                    source_modified=None,
                )
            )

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(r.status for r in records) == ["pending"] + ["skipped"] * 11
    winner = next(r for r in records if r.status == "pending")
    assert {r.duplicate_of for r in records if r.status == "skipped"} == {
        query(
            db_url,
            "SELECT partitionkey FROM smartcrop_upload_files WHERE id = %s",
            (winner.id,),
        )[0][0]
    }


@pytest.mark.slow
def test_one_file_through_the_sensor_and_two_api_processes_at_once(
    web_pipeline, dagster_web, db_url: str, make_user, tmp_path: Path
) -> None:
    """The same bytes in the staging folder (the sensor's run, in this process) and
    in two folders handed to POST /filewatcher/run-local of two API processes: the
    three runs start together (a barrier), and the file is ingested once, the other
    two deliveries recorded as skipped. (Each door runs in its own process, as in
    production: Dagster runs in process share stdout capture, so three in one
    process would be a test artefact.) ``smartcrop ingest`` starts a moment later
    with a fourth copy and finds it already ingested.

    The API processes submit their runs to a Dagster webserver, which launches each
    in a run worker process."""
    pipeline = web_pipeline
    name = "NBCU_race.xlsx"
    content = corpus.good("SH8C", 2000)
    staged = pipeline.staging / name
    staged.write_bytes(content)
    past = time.time() - 10
    os.utime(staged, (past, past))
    tick = pipeline.tick("local_staging_sensor")
    for folder in ("one", "two"):
        (pipeline.staging / folder).mkdir()
        (pipeline.staging / folder / name).write_bytes(content)
    cli_copy = tmp_path / "cli" / name
    cli_copy.parent.mkdir()
    cli_copy.write_bytes(content)
    _, email, password = make_user("admin")
    env = {
        "SMARTCROP_SERVICE__AUTH__JWT_SECRET": JWT_SECRET,
        "SMARTCROP_LOG_LEVEL": "WARNING",
        "DAGSTER_HOME": str(dagster_web.home),  # the runs' instance
    }
    outcomes: dict[str, Any] = {}
    with (
        api_process(pipeline.config_path, db_url, tmp_path / "a.log", env) as one,
        api_process(pipeline.config_path, db_url, tmp_path / "b.log", env) as two,
    ):
        token = httpx.post(
            one.base_url + "/user/Login", json={"EmailID": email, "Password": password}
        ).json()["Data"]["Token"]
        barrier = threading.Barrier(3)

        def sensor() -> None:
            barrier.wait()
            outcomes["sensor"] = pipeline.run(tick)[0].success

        def api(server: Any, folder: str) -> None:
            barrier.wait()
            answer = httpx.post(
                server.base_url + "/filewatcher/run-local",
                params={"folder_path": folder},
                headers={"Authorization": f"Bearer {token}"},
                timeout=300,
            )
            outcomes[folder] = answer.json()["files"][name]["status"]

        threads = [
            threading.Thread(target=sensor),
            threading.Thread(target=api, args=(one, "one")),
            threading.Thread(target=api, args=(two, "two")),
        ]
        for thread in threads:
            thread.start()
        cli = subprocess.run(
            [SMARTCROP, "ingest", str(cli_copy)],
            env={
                **os.environ,
                **env,
                "DATABASE__URL": db_url,
                "SMARTCROP_CONFIG": str(pipeline.config_path),
                "DAGSTER_HOME": str(tmp_path / "cli_home"),
            },
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        for thread in threads:
            thread.join(timeout=300)
    assert outcomes["sensor"] is True
    assert cli.returncode == 0, cli.stderr[-2000:]
    doors = [outcomes["one"], outcomes["two"]]
    assert sorted(doors) in (["ingested", "skipped"], ["skipped", "skipped"])
    statuses = collections.Counter(
        r[0] for r in query(db_url, "SELECT status FROM smartcrop_upload_files")
    )
    # The CLI answers "skipped" without recording when it sees the content ingested
    # under its own key; otherwise it records a skipped delivery.
    assert statuses["ingested"] == 1
    assert statuses["skipped"] in (2, 3) and set(statuses) <= {"ingested", "skipped"}
    assert query(db_url, "SELECT count(*) FROM smartcrop_programimage") == [(2000,)]
    assert query(db_url, "SELECT count(*) FROM smartcrop_inputfiles") == [(2000,)]


# --- 10,000 claims over two API processes ---------------------------------------------

PROGRAMMES = 10_000
CLIENTS = 32
JWT_SECRET = "a shared signing secret for both API processes, 48+ chars"


def _seed_queue(db_url: str) -> int:
    """PROGRAMMES programmes in the NBCU operator queue, every other one with two
    images; sizes known, so a claim never fetches a source image."""
    with psycopg.connect(libpq_url(db_url)) as conn:
        conn.execute(
            "INSERT INTO smartcrop_programimage (link_object_id, providername,"
            " programtitle, imageurl, imagetypeid, languageid, width, height, status,"
            " currentstate, createdat)"
            " SELECT format('SH%%s', lpad(p::text, 10, '0')), 'NBCU', 'Title',"
            " format('https://img.example.com/%%s/%%s.jpg', p, i), 1, 1, 2000, 3000,"
            " 1, 0, now() - make_interval(secs => p)"
            " FROM generate_series(1, %s) p, generate_series(1, 2) i"
            " WHERE i = 1 OR p %% 2 = 0",
            (PROGRAMMES,),
        )
        conn.commit()
        conn.execute("ANALYZE smartcrop_programimage")  # as autovacuum would, soon
        # Durability is not what this test is about: commits need not wait for the
        # disk (the test database is thrown away), which keeps 2 cores busy instead.
        name = conn.execute("SELECT current_database()").fetchone()[0]
        conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit TO off')
        return conn.execute("SELECT count(*) FROM smartcrop_programimage").fetchone()[0]


@pytest.mark.slow
def test_ten_thousand_claims_from_32_clients_on_two_api_processes(
    db_url: str, make_user, tmp_path: Path
) -> None:
    rows = _seed_queue(db_url)
    users = [make_user("operator") for _ in range(CLIENTS)]
    config = write_config(tmp_path / "config.yml", tmp_path)
    env = {
        "SMARTCROP_SERVICE__AUTH__JWT_SECRET": JWT_SECRET,
        "SMARTCROP_LOG_LEVEL": "WARNING",
    }
    claims: dict[int, list[tuple[str, list[int]]]] = collections.defaultdict(list)
    errors: list[str] = []
    with (
        api_process(config, db_url, tmp_path / "api1.log", env) as one,
        api_process(config, db_url, tmp_path / "api2.log", env) as two,
    ):
        servers = [one.base_url, two.base_url]
        tokens = []
        for index, (_, email, password) in enumerate(users):
            answer = httpx.post(
                servers[index % 2] + "/user/Login",
                json={"EmailID": email, "Password": password},
            )
            tokens.append(answer.json()["Data"]["Token"])
        barrier = threading.Barrier(CLIENTS)

        def operator(index: int) -> None:
            user_id = users[index][0]
            headers = {"Authorization": f"Bearer {tokens[index]}"}
            # Each client alternates between the two processes.
            http = [
                httpx.Client(base_url=url, headers=headers, timeout=60)
                for url in servers
            ]
            # The test's own hand, not the API's: it takes each claimed programme out
            # of the queue at once, and only if the claimer still holds every row of
            # it. A lock lost or shared would show as a row it cannot take.
            db = psycopg.connect(libpq_url(db_url), autocommit=True)
            barrier.wait()
            try:
                for turn in itertools.count(index):
                    claim = http[turn % 2].get(
                        "/image/GetImageInfo", params={"providerName": "NBCU"}
                    )
                    if claim.status_code != 200:
                        errors.append(f"claim {claim.status_code} {claim.text[:200]}")
                        return
                    programme = claim.json()["Data"]
                    if programme is None:
                        return
                    ids = sorted(i["ImageId"] for i in programme["Images"])
                    claims[user_id].append((programme["ProgramId"], ids))
                    taken = db.execute(
                        "UPDATE smartcrop_programimage SET status = 2,"
                        " currentstate = 0, lockedby = NULL, lockedat = NULL"
                        " WHERE link_object_id = %s AND status = 1"
                        " AND currentstate = 1 AND lockedby = %s RETURNING id",
                        (programme["ProgramId"], user_id),
                    ).fetchall()
                    if sorted(r[0] for r in taken) != ids:
                        errors.append(f"{programme['ProgramId']}: lock not held")
            finally:
                db.close()
                for client in http:
                    client.close()

        started = time.monotonic()
        threads = [threading.Thread(target=operator, args=(i,)) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
        elapsed = time.monotonic() - started
        logs = one.output() + two.output()

    assert not errors, errors[:5]
    taken = [pid for per_user in claims.values() for pid, _ in per_user]
    print(f"{len(taken)} claims by {CLIENTS} clients in {elapsed:.1f} s")
    assert len(taken) == PROGRAMMES
    assert len(set(taken)) == PROGRAMMES  # no programme claimed twice
    images = [i for per_user in claims.values() for _, ids in per_user for i in ids]
    assert len(images) == len(set(images)) == rows
    assert len(claims) == CLIENTS  # every client got work
    # Every row left the operator queue in its claimer's hands; no lock remains.
    assert query(
        db_url,
        "SELECT count(*) FROM smartcrop_programimage"
        " WHERE status = 1 OR currentstate = 1 OR lockedby IS NOT NULL",
    ) == [(0,)]
    claim_audits = query(
        db_url,
        "SELECT link_object_id, count(DISTINCT userid) FROM"
        " smartcrop_programimage_audit WHERE tostatus = 1 AND tostate = 1"
        " GROUP BY link_object_id HAVING count(DISTINCT userid) <> 1",
    )
    assert claim_audits == []
    assert "Traceback" not in logs
    # About 75 s alone on two cores; the bound only catches a livelock or a hang.
    assert elapsed < 300, f"{elapsed:.0f} s"


@pytest.mark.slow
def test_two_file_pipeline_calls_at_once_on_one_api_process(
    web_pipeline, dagster_web, db_url: str, make_user, tmp_path: Path
) -> None:
    """Two admins start file pipelines at the same moment on one API process: both
    runs are submitted to the webserver and finish, and /health answers meanwhile
    (the API once ran them itself, and two in-process runs in two threads
    deadlocked it)."""
    pipeline = web_pipeline
    for n, folder in enumerate(("one", "two")):
        (pipeline.staging / folder).mkdir()
        data = corpus.good(f"SH{n}P", 1000)
        (pipeline.staging / folder / f"NBCU_{folder}.xlsx").write_bytes(data)
    _, email, password = make_user("admin")
    env = {
        "SMARTCROP_SERVICE__AUTH__JWT_SECRET": JWT_SECRET,
        "DAGSTER_HOME": str(dagster_web.home),  # the runs' instance
    }
    answers: dict[str, Any] = {}
    with api_process(pipeline.config_path, db_url, tmp_path / "api.log", env) as api:
        login = {"EmailID": email, "Password": password}
        token = httpx.post(api.base_url + "/user/Login", json=login).json()["Data"][
            "Token"
        ]

        def run(folder: str) -> None:
            try:
                answers[folder] = httpx.post(
                    api.base_url + "/filewatcher/run-local",
                    params={"folder_path": folder},
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=120,
                ).json()["status"]
            except httpx.HTTPError as exc:
                answers[folder] = repr(exc)

        threads = [threading.Thread(target=run, args=(f,)) for f in ("one", "two")]
        for thread in threads:
            thread.start()
        time.sleep(3)
        try:
            health = httpx.get(api.base_url + "/health", timeout=5).status_code
        except httpx.HTTPError as exc:
            health = repr(exc)
        for thread in threads:
            thread.join(timeout=60)
    assert health == 200
    assert answers == {"one": "success", "two": "success"}
