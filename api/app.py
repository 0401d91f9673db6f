"""The FastAPI application factory."""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import sessionmaker

from api.envelope import ERROR_RESPONSES
from api.errors import install_error_handlers
from api.limits import BodySizeLimit
from api.routes import dashboard, health, image, lookup, report, role, rule, user
from api.routes import pipelines as file_pipelines
from api.routes import suggest as crop_suggestions
from api.security_headers import SecurityHeaders
from api.ui import install_ui
from smartcrop.db import database_url, make_engine
from smartcrop.logging_setup import configure_logging, secrets_of
from smartcrop.settings import Settings, get_settings

# A benchmark's knob, not a setting: SMARTCROP_GC_FREEZE=0 keeps the start-up heap
# unfrozen (the baseline of bench/claims_gc.py). Read here only.
GC_FREEZE_ENV_VAR = "SMARTCROP_GC_FREEZE"


def gc_freeze_enabled(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether start-up freezes the heap: yes unless the knob is 0, false, no or off."""
    value = environ.get(GC_FREEZE_ENV_VAR, "1").strip().lower()
    return value not in ("0", "false", "no", "off")


def freeze_startup_heap() -> bool:
    """Move every object alive now into the permanent generation, once per process.

    Why: the ~190,000 objects of start-up (imports, SQLAlchemy's metadata, pydantic's
    models) live as long as the process, yet every full (generation-2) collection
    walked them all: about 100 ms of CPU (longer on a busy machine) every 20-30 s
    per worker under claims load, during which the worker answers nothing (the
    claims-capacity p99 stalls). Frozen, they are never scanned again: a full
    collection walks only what requests left behind, about 5 ms (bench/claims_gc.py;
    Python's gc.freeze, Instagram's technique). The collect first keeps start-up's
    garbage out of the frozen set. True if this call froze.
    """
    if gc.get_freeze_count() or not gc_freeze_enabled():
        return False  # frozen already (another app in this process), or turned off
    gc.collect()
    gc.freeze()
    return True


def create_app(settings: Settings | None = None, db_url: str | None = None) -> FastAPI:
    """Build the app for these settings (read from config.yml and the environment)."""
    settings = settings or get_settings()
    configure_logging(secrets_of(settings))
    url = db_url or database_url(settings)
    engine = make_engine(url)  # owned by this app: disposed when it stops

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Everything is imported and the app is built: freeze what start-up made.
        freeze_startup_heap()
        yield
        engine.dispose()

    app = FastAPI(
        lifespan=lifespan,
        title="SmartCrop API",
        version="0.1.0",
        description="Claim, crop and review programme images (see docs/spec).",
        responses=ERROR_RESPONSES,
    )
    app.state.settings = settings
    # Request bodies are capped (1 MiB; renditions: see api/limits.py) -> 413.
    app.add_middleware(BodySizeLimit, settings=settings)
    # nosniff, no framing, no referrer, a CSP (strict on /ui/), no-store on JSON.
    app.add_middleware(SecurityHeaders, settings=settings)
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker(engine, expire_on_commit=False)
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(user.router)
    app.include_router(role.router)
    app.include_router(rule.router)
    app.include_router(image.router)
    app.include_router(lookup.router)
    app.include_router(dashboard.router)
    app.include_router(report.router)
    app.include_router(file_pipelines.router)
    app.include_router(crop_suggestions.router)
    install_ui(app)  # the crop page (/ui/) and the demo's images
    storage = settings.smartcrop_service.storage
    if storage.backend == "local":
        # Renditions stored locally are served here (storage.public_base_url).
        # The folder exists from the start: a missing one answers 500, not 404.
        storage.local_root.mkdir(parents=True, exist_ok=True)
        renditions = StaticFiles(directory=storage.local_root, check_dir=False)
        app.mount("/renditions", renditions, name="renditions")

    return app
