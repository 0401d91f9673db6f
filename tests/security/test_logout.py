"""POST /user/Logout ends the calling token at once in every API process: the
revocation is in the database, which every process reads on each request."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.support.api_process import api_process, write_config

JWT_SECRET = "a shared secret for both API processes, long enough"


def test_a_logged_out_token_is_refused_at_once_by_both_api_processes(
    db_url: str, tmp_path: Path, make_user
) -> None:
    _, email, password = make_user("operator")
    config = write_config(tmp_path / "config.yml", tmp_path)
    env = {"SMARTCROP_SERVICE__AUTH__JWT_SECRET": JWT_SECRET}
    with (
        api_process(config, db_url, tmp_path / "one.log", env) as one,
        api_process(config, db_url, tmp_path / "two.log", env) as two,
    ):
        credentials = {"EmailID": email, "Password": password}

        def token() -> dict[str, str]:
            answer = httpx.post(one.base_url + "/user/Login", json=credentials)
            return {"Authorization": f"Bearer {answer.json()['Data']['Token']}"}

        stolen, other = token(), token()
        for server in (one, two):
            assert httpx.get(server.base_url + "/dashboard/Totals", headers=stolen)
        assert httpx.post(two.base_url + "/user/Logout", headers=stolen).is_success

        for server in (one, two):
            refused = httpx.get(server.base_url + "/dashboard/Totals", headers=stolen)
            assert refused.status_code == 401, server.base_url
            kept = httpx.get(server.base_url + "/dashboard/Totals", headers=other)
            assert kept.status_code == 200, server.base_url
