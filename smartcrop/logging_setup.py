"""One log format for every process, and a filter that keeps secrets out of it."""

from __future__ import annotations

import logging
import os
import re

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Passwords inside URLs (scheme://user:secret@host) and bearer tokens are the secrets
# most likely to reach a log line by accident; configured secrets are added at start-up.
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]+@", re.I)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.I)
# A client may put a token or a password in a query string (the access log prints
# the whole request line); the API never asks for one there, but must not log it.
_QUERY_SECRET = re.compile(
    r"([?&](?:access_token|token|password|passwd|secret|api_key)=)[^&\s\"']+", re.I
)


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: list[str] | None = None) -> None:
        super().__init__()
        self.secrets = [s for s in (secrets or []) if s and len(s) >= 4]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = _URL_PASSWORD.sub(r"\g<head>***@", message)
        clean = _BEARER.sub(r"\1***", clean)
        clean = _QUERY_SECRET.sub(r"\1***", clean)
        for secret in self.secrets:
            clean = clean.replace(secret, "***")
        if clean != message:
            record.msg, record.args = clean, None
        return True


def configure_logging(
    secrets: list[str] | None = None, level: str | None = None
) -> None:
    """Set the root logger once: one format, the redaction filter on every handler."""
    level = level or os.environ.get("SMARTCROP_LOG_LEVEL", "INFO")
    root = logging.getLogger()
    if not any(isinstance(h, logging.StreamHandler) for h in root.handlers):
        console = logging.StreamHandler()
        console.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(console)
    for handler in root.handlers:
        for old in [f for f in handler.filters if isinstance(f, RedactSecrets)]:
            handler.removeFilter(old)
        handler.addFilter(RedactSecrets(secrets))
    root.setLevel(level.upper())
    # Alembic logs at INFO every plugin it sets up and the dialect it found, on every
    # run: ours and those of Dagster's SQLite storage (a dozen lines per run started in
    # process). What matters, the revisions applied, is logged by smartcrop.db.migrate.
    logging.getLogger("alembic").setLevel(logging.WARNING)


def secrets_of(settings: object) -> list[str]:
    """Every SecretStr value in a settings tree, for the redaction filter."""
    from pydantic import BaseModel, SecretStr  # noqa: PLC0415

    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, SecretStr):
            found.append(value.get_secret_value())
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name))
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)

    walk(settings)
    return [s for s in found if s]
