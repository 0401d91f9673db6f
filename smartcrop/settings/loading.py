"""Loading the settings: the tree's root (``Settings``), its sources in order of
strength, and ``load_settings``, which turns any failure into one ``SettingsError``
worded for whoever edits config.yml."""

from __future__ import annotations

import os
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from smartcrop.settings.aws import AwsConfig, S3Access
from smartcrop.settings.delivery import (
    BatchJobConfig,
    DumpDataConfig,
    SmartcropFtpConfig,
)
from smartcrop.settings.legacy import warned_after_load
from smartcrop.settings.service import (
    DatabaseConfig,
    DeploymentConfig,
    SmartcropService,
)
from smartcrop.settings.sources import (
    FilewatcherConfig,
    FilewatcherSettings,
    ProcessingMiddleware,
)

CONFIG_ENV_VAR = "SMARTCROP_CONFIG"
DEFAULT_CONFIG_FILE = "config.yml"
# The file of one load_settings(config_file=...) call: a context variable, not an
# environment variable, so threads (Dagster's daemon runs sensors in threads) never
# see each other's choice.
_config_file: ContextVar[str | None] = ContextVar("smartcrop_config_file", default=None)


class SettingsError(Exception):
    """A configuration problem, worded for the person who edits config.yml."""


class _EnvSource(EnvSettingsSource):
    """The environment overlay, except ``PROCESSING_MIDDLEWARE`` itself.

    That variable is the legacy selector of a middleware entry (a name), but with
    nested keys joined by "__" its name is also the whole ``processing_middleware``
    section's, which would then have to be JSON. Nested variables
    (``PROCESSING_MIDDLEWARE__LOCAL_FILESYSTEM__ROOT_PATH``) still apply, and so does
    a JSON object given for the section.
    """

    def get_field_value(
        self, field: FieldInfo, field_name: str
    ) -> tuple[Any, str, bool]:
        value, key, is_complex = super().get_field_value(field, field_name)
        if (
            field_name == "processing_middleware"
            and isinstance(value, str)
            and not value.lstrip().startswith("{")
        ):
            value = None
        return value, key, is_complex


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_nested_delimiter="__",
        case_sensitive=False,
        extra="forbid",
        yaml_file=DEFAULT_CONFIG_FILE,
    )

    deployment_config: DeploymentConfig = Field(default_factory=DeploymentConfig)
    aws_config: AwsConfig = Field(default_factory=AwsConfig)
    smartcrop_service: SmartcropService = Field(default_factory=SmartcropService)
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    processing_middleware: ProcessingMiddleware = Field(
        default_factory=ProcessingMiddleware
    )
    filewatcher: FilewatcherConfig = Field(default_factory=FilewatcherConfig)
    smartcrop_ftp_config: SmartcropFtpConfig = Field(default_factory=SmartcropFtpConfig)
    smartcrop_filewatcher_settings: FilewatcherSettings = Field(
        default_factory=FilewatcherSettings
    )
    smartcrop_filewatcher_batchjob: BatchJobConfig = Field(
        default_factory=BatchJobConfig
    )
    smartcrop_dumpdata: DumpDataConfig = Field(default_factory=DumpDataConfig)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_file = (
            _config_file.get() or os.environ.get(CONFIG_ENV_VAR) or DEFAULT_CONFIG_FILE
        )
        return (
            init_settings,
            _EnvSource(settings_cls),
            YamlConfigSettingsSource(settings_cls, yaml_file=yaml_file),
        )

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> Settings:
        if (
            self.deployment_config.server == "aws"
            and self.smartcrop_service.auth.jwt_secret is None
        ):
            raise ValueError(
                "smartcrop_service.auth.jwt_secret must be set when "
                "deployment_config.server is 'aws'"
            )
        return self

    @property
    def smartcrop_bucket(self) -> str:
        return self.aws_config.service_accounts[0].uat.smartcrop_bucket

    def s3_access(self, bucket: str, region: str | None = None) -> S3Access:
        """Region and keys for a client of ``bucket``.

        The first service account whose ``smartcrop_bucket`` is ``bucket`` gives its
        region and keys; ``aws_config``'s fill what it leaves out (and serve a
        bucket no account names); ``region`` (a source's own) wins over both.
        """
        aws = self.aws_config
        account = next(
            (
                entry.uat
                for entry in aws.service_accounts
                if entry.uat.smartcrop_bucket == bucket
            ),
            None,
        )
        keys = (
            (account.access_key_id, account.secret_access_key)
            if account is not None and account.access_key_id is not None
            else (aws.access_key_id, aws.secret_access_key)
        )
        return S3Access(
            region=region or (account.region if account else None) or aws.region,
            access_key=keys[0].get_secret_value() if keys[0] else None,
            secret_key=keys[1].get_secret_value() if keys[1] else None,
        )

    @property
    def staging_root(self) -> Path:
        """The staging folder: run-local, the local sensor and ``smartcrop up`` use
        it (``ProcessingMiddleware.staging_folder``)."""
        return self.processing_middleware.staging_folder.resolve()


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown key (check its spelling against config.example.yml)"
        lines.append(f"{key}: {message}")
    return "invalid configuration: " + "; ".join(lines)


def load_settings(config_file: str | None = None, **overrides: Any) -> Settings:
    """Read the settings, turning any validation failure into one SettingsError.

    ``config_file`` replaces config.yml / SMARTCROP_CONFIG for this call only (a
    Dagster resource or a test pointing at its own file); the environment still
    overlays it.
    """
    config_path = config_file or os.environ.get(CONFIG_ENV_VAR)
    if config_path and not Path(config_path).is_file():
        source = "the config file" if config_file else CONFIG_ENV_VAR
        raise SettingsError(
            f"{source} points at {config_path}, which is not a readable file"
        )
    token = _config_file.set(config_file)
    try:
        with warned_after_load():
            settings = Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None
    except (OSError, ValueError, yaml.YAMLError) as exc:
        # A YAML syntax error or an unreadable file surfaces here.
        raise SettingsError(f"cannot read configuration: {exc}") from None
    finally:
        _config_file.reset(token)
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
