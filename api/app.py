"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.orm import sessionmaker

from api.errors import install_error_handlers
from api.routes import health, role, rule, user
from smartcrop.db import database_url, make_engine
from smartcrop.logging_setup import configure_logging, secrets_of
from smartcrop.settings import Settings, get_settings


def create_app(settings: Settings | None = None, db_url: str | None = None) -> FastAPI:
    """Build the app for these settings (read from config.yml and the environment)."""
    settings = settings or get_settings()
    configure_logging(secrets_of(settings))
    url = db_url or database_url(settings)
    engine = make_engine(url)  # owned by this app: disposed when it stops

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        lifespan=lifespan,
        title="SmartCrop API",
        version="0.1.0",
        description="Claim, crop and review programme images (see docs/spec).",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker(engine, expire_on_commit=False)
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(user.router)
    app.include_router(role.router)
    app.include_router(rule.router)

    return app
