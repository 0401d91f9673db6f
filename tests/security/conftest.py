"""The API as the security tests attack it: every route live, file pipelines included.

The file-pipeline routes start Dagster jobs in process; the app gets the ``pipeline``
fixture's instance and settings file (folders under tmp), so nothing an attack makes
them do can touch the repository's own ``.smartcrop`` folder.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from api.app import create_app


@pytest.fixture
def api_app(pipeline, db_url: str) -> FastAPI:
    app = create_app(pipeline.settings, db_url)
    app.state.dagster_instance = pipeline.instance
    app.state.config_path = str(pipeline.config_path)
    return app
