"""Where providers' manifest files come from: the staging folder (the legacy
``processing_middleware`` table or the local filesystem), S3 and SFTP sources, and the
file-name prefixes that tell the providers apart."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field, PrivateAttr, field_validator, model_validator

from smartcrop.settings.shared import Credentials, ProxyConfig, Section

# The legacy service chose its staging folder among processing_middleware.middleware's
# entries by this environment variable.
MIDDLEWARE_ENV_VAR = "PROCESSING_MIDDLEWARE"
DEFAULT_MIDDLEWARE = "ec2_instance"


class LocalFilesystemConfig(Section):
    root_path: Path = Path(".smartcrop/staging")
    quarantine_path: Path = Path(".smartcrop/quarantine")
    work_dir: Path = Path(".smartcrop/work")


class MiddlewareEntry(Section):
    """One entry of the legacy ``processing_middleware.middleware`` table."""

    # None: processing_middleware.local_filesystem.root_path.
    root_path: Path | None = None
    # The staging folder under root_path; None: root_path itself.
    folder_name: str | None = None


class ProcessingMiddleware(Section):
    # The legacy table of staging folders by name; PROCESSING_MIDDLEWARE (default
    # ec2_instance) chooses one. Empty, or no such entry: local_filesystem.root_path.
    middleware: dict[str, MiddlewareEntry] = Field(default_factory=dict)
    local_filesystem: LocalFilesystemConfig = Field(
        default_factory=LocalFilesystemConfig
    )
    # The entry's name, read from the environment when the settings are loaded, so
    # one Settings object always means one folder.
    _selected: str = PrivateAttr(default=DEFAULT_MIDDLEWARE)

    @field_validator("middleware", mode="before")
    @classmethod
    def _kind_names_are_no_table(cls, value: Any) -> Any:
        # config.example.yml used to hold a kind name here ("local_filesystem", "s3",
        # "sftp") that nothing read: a copy of it still loads, as an empty table.
        if value is None or value in ("local_filesystem", "s3", "sftp"):
            return {}
        return value

    @model_validator(mode="after")
    def _select(self) -> ProcessingMiddleware:
        chosen = os.environ.get(MIDDLEWARE_ENV_VAR, "").strip()
        if chosen and self.middleware and chosen not in self.middleware:
            # Named on purpose but absent: staging from the fallback folder instead
            # would silently watch the wrong place.
            raise ValueError(
                f"{MIDDLEWARE_ENV_VAR}={chosen!r} names no entry of "
                "processing_middleware.middleware (it has "
                f"{', '.join(sorted(self.middleware))})"
            )
        self._selected = chosen or DEFAULT_MIDDLEWARE
        return self

    @property
    def selected(self) -> MiddlewareEntry | None:
        return self.middleware.get(self._selected)

    @property
    def staging_folder(self) -> Path:
        """The selected entry's root_path/folder_name, else local_filesystem's root."""
        entry = self.selected
        if entry is None:
            return self.local_filesystem.root_path
        root = entry.root_path or self.local_filesystem.root_path
        return root / entry.folder_name if entry.folder_name else root


class S3Source(Section):
    bucket: str
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _legacy_endpoint(cls, data: Any) -> Any:
        # Legacy configs spell endpoint_url "endpoint": the same setting, read.
        if not isinstance(data, Mapping) or "endpoint" not in data:
            return data
        data = dict(data)
        legacy = data.pop("endpoint")
        current = data.get("endpoint_url")
        if legacy is not None and current not in (None, legacy):
            raise ValueError(
                "endpoint (the legacy spelling) and endpoint_url differ: give one"
            )
        if current is None:
            data["endpoint_url"] = legacy
        return data


class SftpSource(Section):
    host: str
    port: int = Field(default=22, gt=0, lt=65536)
    directory: str = "."
    credentials: Credentials = Field(default_factory=Credentials)
    proxy: ProxyConfig | None = None
    known_hosts: Path | None = None


class FilewatcherConfig(Section):
    s3_sources: list[S3Source] = Field(default_factory=list)
    sftp_sources: list[SftpSource] = Field(default_factory=list)
    sensor_interval_seconds: int = Field(default=30, gt=0)


# The contract's default prefixes (section 5): a settings default like any other, so
# the manifest layer reads it from here (the core imports no feature).
DEFAULT_PROVIDER_GROUPS: dict[str, dict[str, str]] = {
    "group_a": {
        "NBCU_": "NBCU",
        "DISNEY_": "DISNEY",
        "WBD_": "WBD",
        "PARAMOUNT_": "PARAMOUNT",
    },
    "group_b": {"TMDB_": "TMDB"},
    "group_c": {"SLING_": "SLING"},
    "group_d": {"EMAIL_": "EMAIL"},
}


class ProviderFileType(Section):
    """File-name prefix -> provider name, one mapping per layout group."""

    group_a: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_PROVIDER_GROUPS["group_a"])
    )
    group_b: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_PROVIDER_GROUPS["group_b"])
    )
    group_c: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_PROVIDER_GROUPS["group_c"])
    )
    group_d: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_PROVIDER_GROUPS["group_d"])
    )

    def as_mapping(self) -> dict[str, dict[str, str]]:
        return self.model_dump()


class FilewatcherSettings(Section):
    provider_file_type: ProviderFileType = Field(default_factory=ProviderFileType)
