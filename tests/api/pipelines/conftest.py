"""Fixtures of the file-pipeline endpoint tests (contract 4.9): a real app, database and
Dagster webserver, with S3 on moto and SFTP on a loopback server.

Every endpoint submits its runs to the webserver (tests/support/dagster_web.py), which
launches them in run worker processes; the app reads the answers from the same
instance, as ``smartcrop up`` gives it DAGSTER_HOME's: every run an endpoint reports
must be on that instance.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from api.app import create_app

# The helpers of these tests assert: show their failures as in a test.
pytest.register_assert_rewrite("tests.api.pipelines.sources")


@pytest.fixture
def pipeline(web_pipeline):
    """Overrides tests/support/pipelines.py's: the runs go through the webserver."""
    return web_pipeline


@pytest.fixture
def api_app(pipeline, db_url: str) -> FastAPI:
    """Overrides tests/support/api.py's app: settings from the pipeline's file."""
    app = create_app(pipeline.settings, db_url)
    app.state.dagster_instance = pipeline.instance
    # A test that changes the settings (a source, a target) changes them for the app
    # too, as a restart with the new file would.
    pipeline.on_configure.append(
        lambda: setattr(app.state, "settings", pipeline.settings)
    )
    return app


@pytest.fixture
def admin(token_for) -> dict[str, str]:
    return token_for("admin")[1]
