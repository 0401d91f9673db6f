"""The web app's browser tests: one API server, one database and one Chromium per test
module (each test opens its own tab, so its own session); see tests/support/browser.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.browser import Site, chromium, serve_site


@pytest.fixture(scope="module")
def site(pg_server, pg_template, tmp_path_factory) -> Iterator[Site]:
    with serve_site(pg_server, pg_template, tmp_path_factory.mktemp("webapp")) as made:
        yield made


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator[Any]:
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context
