"""SQL injection strings in every text field and query parameter of every endpoint.

Built from the app's own OpenAPI document, so an endpoint added later is attacked too.
Each answer must be a normal 2xx or a 4xx in the envelope, never a 500, never slow
(``pg_sleep`` must not run), never SQL or a driver message; afterwards every table is
still there and the data that was there is untouched.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import psycopg
from fastapi.testclient import TestClient

from smartcrop.db import libpq_url
from smartcrop.ingestion import landing, work_items
from smartcrop.ingestion.manifests import DEFAULT_PROVIDER_FILE_TYPE
from tests.security.openapi_requests import operations
from tests.support.api import DEFAULT_PASSWORD, login
from tests.support.manifest_samples import SAMPLES
from tests.support.route_roles import NO_ENVELOPE

PAYLOADS = (
    "' OR 1=1 --",
    "'; DROP TABLE smartcrop_user; --",
    '"; DROP TABLE smartcrop_programimage; --',
    "1 OR 1=1",
    "1; SELECT pg_sleep(30) --",
    "' OR pg_sleep(30) IS NULL --",
    "' UNION SELECT passwordhash, emailid FROM smartcrop_user --",
    "%' OR '%'='",
    "$$; DROP TABLE smartcrop_role; $$",
    "\\'; DELETE FROM smartcrop_programimage; --",
    "admin'--",
    "SH012345670000' OR ''='",
)
LEAKS = (
    "Traceback",
    "psycopg",
    "sqlalchemy",
    "syntax error",
    "passwordhash",
    "$argon2",
)


def seed_work_items(db_url: str, tmp: Path) -> int:
    """The NBCU sample ingested straight through the domain: rows to attack."""
    path = tmp / "NBCU_20261120.xlsx"
    path.write_bytes((SAMPLES / path.name).read_bytes())
    groups = {k: dict(v) for k, v in DEFAULT_PROVIDER_FILE_TYPE.items()}
    with psycopg.connect(libpq_url(db_url), autocommit=True) as conn:
        record = landing.record_file(
            conn,
            partition_key="seed",
            path=path,
            filename=path.name,
            source="cli",
            source_path=str(path),
            source_modified=None,
        )
        landing.land_rows(conn, record, path, groups)
        return work_items.derive_work_items(conn, record).ingested_items


def _snapshot(db_url: str) -> dict[str, object]:
    with psycopg.connect(libpq_url(db_url)) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'public' ORDER BY 1"
        ).fetchall()
        return {
            "tables": tables,
            "images": conn.execute(
                "SELECT id, link_object_id, imageurl FROM smartcrop_programimage"
                " ORDER BY id"
            ).fetchall(),
            "roles": conn.execute(
                "SELECT id, rolename FROM smartcrop_role WHERE id <= 3 ORDER BY id"
            ).fetchall(),
            "rules": conn.execute("SELECT count(*) FROM smartcrop_rule").fetchall(),
        }


def test_sql_injection_in_every_text_input(
    client: TestClient, api_app, make_user, db_url: str, tmp_path: Path
) -> None:
    assert seed_work_items(db_url, tmp_path) == 40
    admin_id, admin_email, _ = make_user("admin")
    victim_id, victim_email, _ = make_user("operator")
    token = login(client, admin_email, DEFAULT_PASSWORD).json()["Data"]["Token"]
    admin = {"Authorization": f"Bearer {token}"}
    assert client.post("/role/Create", json={"RoleName": "spare"}, headers=admin)
    before = _snapshot(db_url)
    users_before = {
        r[0]
        for r in psycopg.connect(libpq_url(db_url)).execute(
            "SELECT id FROM smartcrop_user"
        )
    }

    defaults = {
        "UserId": victim_id,
        "EmailID": victim_email,
        "Password": "a long enough password",
        "NewPassword": "another long password",
        "RoleName": "spare",
        "NewRoleName": "spare2",
        "providerName": "NBCU",
        "programId": "SH000000000000",
        "user": str(admin_id),
        "userId": str(admin_id),
        "pageNumber": "1",
        "pageSize": "5",
        "fromDate": "2026-01-01",
        "toDate": "2026-12-31",
    }
    attacked = 0
    slowest = 0.0
    codes: dict[int, int] = {}
    for operation in operations(api_app.openapi(), defaults):
        for where in operation.text_inputs:
            for payload in PAYLOADS:
                query, body = operation.with_text(where, payload)
                started = time.monotonic()
                response = client.request(
                    operation.method,
                    operation.path,
                    params=query,
                    json=body,
                    headers=admin,
                )
                slowest = max(slowest, time.monotonic() - started)
                attacked += 1
                what = (operation.method, operation.path, where, payload)
                assert response.status_code < 500, (what, response.text)
                if operation.path != "/user/Login":  # the admin stays signed in
                    assert response.status_code not in (401, 403), what
                codes[response.status_code] = codes.get(response.status_code, 0) + 1
                # The payload may be echoed back ("... is not an e-mail address").
                text = response.text.replace(json.dumps(payload)[1:-1], "")
                assert not any(leak in text for leak in LEAKS), (what, text[:300])
                if operation.path not in NO_ENVELOPE:
                    assert response.json()["StatusCode"] == response.status_code, what
    assert attacked >= 400
    print("status codes of the attacks:", dict(sorted(codes.items())))
    # A pg_sleep(30) that ran would hold its request for 30 s; the margin leaves room
    # for a loaded machine (a Login's slow password hash, say) without a false alarm.
    assert slowest < 15, f"a request took {slowest:.1f} s: did a pg_sleep run?"

    after = _snapshot(db_url)
    assert after == before
    with psycopg.connect(libpq_url(db_url)) as conn:
        users_after = {r[0] for r in conn.execute("SELECT id FROM smartcrop_user")}
    assert users_before <= users_after
    # The admin's own account was never the target and still works.
    assert login(client, admin_email, DEFAULT_PASSWORD).status_code == 200


def test_injection_in_the_authorization_header_is_just_a_bad_token(
    client: TestClient,
) -> None:
    for payload in PAYLOADS:
        response = client.get(
            "/user/UserList", headers={"Authorization": f"Bearer {payload}"}
        )
        assert response.status_code == 401
        assert response.json()["IsSuccess"] is False
