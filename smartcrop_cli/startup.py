"""What every command does first: settings and logging, the database, its schema."""

from __future__ import annotations

from smartcrop.settings import Settings, get_settings


def load_settings() -> Settings:
    """The settings (config.yml, then the environment), with logging set up."""
    from smartcrop.logging_setup import configure_logging, secrets_of  # noqa: PLC0415

    # Logging first, so that what loading the settings warns about (ignored legacy
    # keys) is printed in the one format; the secrets are added once they are known.
    configure_logging()
    settings = get_settings()
    configure_logging(secrets_of(settings))
    return settings


def database_url(settings: Settings) -> str:
    """The configured URL, or the embedded server's (started when needed)."""
    from smartcrop.db import database_url as resolve  # noqa: PLC0415

    return resolve(settings)


def migrate(url: str) -> None:
    from smartcrop.db.migrate import upgrade  # noqa: PLC0415

    upgrade(url)


def ready_database(settings: Settings) -> str:
    """The database URL, the schema brought to the latest revision."""
    url = database_url(settings)
    migrate(url)
    return url
