"""The API's start-up moves the heap into the permanent generation (``gc.freeze`` in
``api/app.py``), so full collections under load no longer walk it; the bench's knob
``SMARTCROP_GC_FREEZE=0`` turns that off."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import GC_FREEZE_ENV_VAR, create_app, freeze_startup_heap
from api.app import gc_freeze_enabled as enabled
from smartcrop.settings import Settings

SettingsFor = Callable[..., Settings]


@pytest.fixture
def unfrozen() -> Iterator[None]:
    # Once per process: an app another test started here may have frozen already.
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_start_up_freezes_the_heap_the_app_included(
    db_url: str,
    settings_for: SettingsFor,
    unfrozen: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(GC_FREEZE_ENV_VAR, raising=False)
    app = create_app(settings_for(db_url), db_url)
    assert gc.get_freeze_count() == 0  # building the app does not: starting it does
    with TestClient(app) as client:
        assert gc.get_freeze_count() > 0
        # Frozen objects are in no generation: the collector will not scan the app.
        assert not any(obj is app for obj in gc.get_objects())
        assert client.get("/health").status_code == 200
        # Once per process: a second call (another app's start-up) freezes nothing.
        assert freeze_startup_heap() is False


def test_the_bench_knob_leaves_the_heap_unfrozen(
    db_url: str,
    settings_for: SettingsFor,
    unfrozen: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(GC_FREEZE_ENV_VAR, "0")
    app = create_app(settings_for(db_url), db_url)
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
        assert gc.get_freeze_count() == 0
        assert any(obj is app for obj in gc.get_objects())


@pytest.mark.parametrize(
    ("value", "freeze"),
    [
        (None, True),
        ("1", True),
        ("yes", True),
        ("", True),
        ("0", False),
        ("false", False),
        (" Off ", False),
        ("no", False),
    ],
)
def test_the_knob_is_read_from_the_environment(value: str | None, freeze: bool) -> None:
    environ = {} if value is None else {GC_FREEZE_ENV_VAR: value}
    assert enabled(environ) is freeze
