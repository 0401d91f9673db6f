"""A write is committed before its answer leaves the server (over real HTTP).

FastAPI runs the code after ``yield`` in a request-scoped dependency only after the
response has been sent; the session dependency is function-scoped so that a client
never acts on a save that is not yet committed (or that then fails to commit).
"""

from __future__ import annotations

import socket
import threading
import time

import httpx
import psycopg
import uvicorn
from sqlalchemy import event

from smartcrop.db import libpq_url

COMMIT_DELAY = 0.5


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_created_rule_is_in_the_database_when_the_200_arrives(
    api_app, db_url: str, make_user
) -> None:
    # Every commit takes a while, as it can under load: the answer must wait for it.
    event.listen(api_app.state.engine, "commit", lambda _conn: time.sleep(COMMIT_DELAY))
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(api_app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        _, email, password = make_user("admin")
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=20) as http:
            login = http.post(
                "/user/Login", json={"EmailID": email, "Password": password}
            )
            token = login.json()["Data"]["Token"]
            created = http.post(
                "/rule/Create",
                json={"Status": 2, "Percentage": 37},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert created.status_code == 200, created.text
            with psycopg.connect(libpq_url(db_url)) as conn:
                rows = conn.execute(
                    "SELECT percentage FROM smartcrop_rule WHERE percentage = 37"
                ).fetchall()
        assert rows == [(37,)]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
