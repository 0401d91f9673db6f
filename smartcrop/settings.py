"""The one settings tree (contract section 8).

Sources, strongest first: keyword arguments, environment variables (nested keys joined
with ``__``, e.g. ``DATABASE__URL``), the YAML file (``config.yml`` in the working
directory, or the path in ``SMARTCROP_CONFIG``), then the defaults below. Relative
paths are taken relative to the working directory, which is the repository root for
``make up`` and the tests.

Secrets are ``SecretStr`` so that printing or logging a settings object never shows
them; base64-encoded credentials are decoded here, once, so no caller decodes them.

A legacy config file loads as it is: the ``processing_middleware.middleware`` table
(one entry chosen by the ``PROCESSING_MIDDLEWARE`` environment variable), the S3
source spelling ``endpoint`` and every ``aws_config.service_accounts[]`` entry are
read; the keys SmartCrop no longer needs (``LEGACY_IGNORED``) are accepted and named
once in a WARNING. Every other unknown key stays an error.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

log = logging.getLogger(__name__)

CONFIG_ENV_VAR = "SMARTCROP_CONFIG"
DEFAULT_CONFIG_FILE = "config.yml"
# The file of one load_settings(config_file=...) call: a context variable, not an
# environment variable, so threads (Dagster's daemon runs sensors in threads) never
# see each other's choice.
_config_file: ContextVar[str | None] = ContextVar("smartcrop_config_file", default=None)

# The legacy service chose its staging folder among processing_middleware.middleware's
# entries by this environment variable.
MIDDLEWARE_ENV_VAR = "PROCESSING_MIDDLEWARE"
DEFAULT_MIDDLEWARE = "ec2_instance"

# Keys of legacy config files that SmartCrop reads no more, by section, with the reason
# the warning gives: accepted so that such a file loads as it is, never a refusal.
LEGACY_IGNORED: dict[str, dict[str, str]] = {
    "smartcrop_filewatcher_batchjob": {
        key: "the nightly manifest is built by SmartCrop's own query on the tables "
        "its migrations create"
        for key in (
            "view_name",
            "programimage_table",
            "aspectratio_table",
            "imagetype_table",
            "role_table",
        )
    },
}
# Ignored keys found by the load under way (load_settings warns once it succeeded, so
# a file that is refused does not also warn); None outside load_settings.
_ignored_keys: ContextVar[list[tuple[str, str]] | None] = ContextVar(
    "smartcrop_ignored_legacy_keys", default=None
)
# Keys already warned about in this process: settings are loaded again by every sensor
# tick and run, and a warning every 30 seconds would bury the rest of the log.
_warned_legacy_keys: set[str] = set()


class SettingsError(Exception):
    """A configuration problem, worded for the person who edits config.yml."""


class _Section(BaseModel):
    # A misspelt key is an error naming the key, not a silently ignored setting.
    model_config = ConfigDict(extra="forbid")


def _drop_legacy_keys(data: Any, section: str) -> Any:
    """``data`` without the ignored legacy keys of ``section``, each noted."""
    ignored = LEGACY_IGNORED[section]
    if not isinstance(data, Mapping) or not any(key in data for key in ignored):
        return data
    for key in ignored:
        if key in data:
            _note_ignored(f"{section}.{key}", ignored[key])
    return {key: value for key, value in data.items() if key not in ignored}


def _note_ignored(key: str, reason: str) -> None:
    found = _ignored_keys.get()
    if found is None:
        _warn_ignored([(key, reason)])
    else:
        found.append((key, reason))


def _warn_ignored(found: list[tuple[str, str]]) -> None:
    for key, reason in found:
        if key not in _warned_legacy_keys:
            _warned_legacy_keys.add(key)
            log.warning("ignored legacy key %s: %s", key, reason)


def _decode_b64(value: str, what: str) -> str:
    try:
        return base64.b64decode(value.encode("ascii"), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise ValueError(f"{what} is not valid base64 text") from exc


class Credentials(_Section):
    """A user name and password, given plainly or base64-encoded (legacy configs)."""

    username: str | None = None
    password: SecretStr | None = None
    username_b64: SecretStr | None = None
    password_b64: SecretStr | None = None

    @field_validator("username_b64", "password_b64")
    @classmethod
    def _check_b64(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            _decode_b64(value.get_secret_value(), "the value")
        return value

    @model_validator(mode="after")
    def _decode(self) -> Credentials:
        # Plain values win over base64 ones: an operator overriding a file's base64
        # credentials with plain environment variables means the plain ones.
        if self.username is None and self.username_b64 is not None:
            self.username = _decode_b64(
                self.username_b64.get_secret_value(), "username"
            )
        if self.password is None and self.password_b64 is not None:
            self.password = SecretStr(
                _decode_b64(self.password_b64.get_secret_value(), "password")
            )
        return self

    @property
    def password_text(self) -> str | None:
        return self.password.get_secret_value() if self.password is not None else None


class DeploymentConfig(_Section):
    server: Literal["dev", "aws"] = "dev"


class BucketConfig(_Section):
    smartcrop_bucket: str = "smartcrop-renditions"
    region: str | None = None
    # This account's own keys, for its bucket; none: aws_config's (or boto3's chain).
    access_key_id: SecretStr | None = None
    secret_access_key: SecretStr | None = None

    @model_validator(mode="after")
    def _keys_in_pairs(self) -> BucketConfig:
        # Half a pair would mix this account's key with another account's secret.
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ValueError(
                "give both access_key_id and secret_access_key, or neither"
            )
        return self


class ServiceAccount(_Section):
    """One AWS service account: the bucket it reaches, with its region and keys.

    Every account is read: an S3 client for a bucket (an ``s3_sources`` entry, the
    rendition bucket) takes the region and keys of the account whose
    ``smartcrop_bucket`` it is (``Settings.s3_access``). The first account's bucket
    is where renditions and manifests go.
    """

    uat: BucketConfig = Field(default_factory=BucketConfig)


@dataclass(frozen=True)
class S3Access:
    """Region and keys for an S3 client of one bucket; None: boto3's default chain."""

    region: str | None
    access_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)


class AwsConfig(_Section):
    service_accounts: list[ServiceAccount] = Field(
        default_factory=lambda: [ServiceAccount()]
    )
    region: str | None = None
    access_key_id: SecretStr | None = None
    secret_access_key: SecretStr | None = None


class CdnConfig(_Section):
    origin_base_url: str = ""
    rewrite_base_url: str = ""


class StorageConfig(_Section):
    backend: Literal["s3", "local"] = "local"
    local_root: Path = Path(".smartcrop/renditions")
    endpoint_url: str | None = None
    # The base URL under which stored renditions are served; the CDN rewrite is applied
    # to URLs built from it.
    public_base_url: str = "http://127.0.0.1:8000/renditions"


class AuthConfig(_Section):
    # Empty in development: a random secret is generated once and kept in the data
    # folder. Required when deployment_config.server is "aws".
    jwt_secret: SecretStr | None = None
    token_ttl_seconds: int = Field(default=28800, gt=0)
    secret_file: Path = Path(".smartcrop/jwt_secret")


class DagsterConfig(_Section):
    """Where the API and the CLI reach Dagster."""

    # The webserver's GraphQL endpoint: the API submits runs there, so they go through
    # the instance's run queue and launcher. `smartcrop up` and `smartcrop dagster`
    # start that webserver on 127.0.0.1:3000.
    graphql_url: str = "http://127.0.0.1:3000/graphql"
    # How long a file-pipeline endpoint waits for its run before answering 202.
    wait_seconds: float = Field(default=120, ge=0)
    # The code location the jobs are in (workspace.yaml's location_name).
    code_location: str = "smartcrop"
    # DAGSTER_HOME when the environment sets none: run history of the local instance.
    home: Path = Path(".smartcrop/dagster_home")


class ImageFetchConfig(_Section):
    """The fetch policy of every server-side fetch of a provider's image URL
    (smartcrop/netfetch.py): private, loopback, link-local and other non-public
    addresses are refused unless allowed here."""

    # "host" or "host:port" entries (IPv6 as "[::1]:8000"), matched against the URL's
    # host as written: allowed even when they resolve to a private address (a provider
    # CDN inside the network, the API's own demo images). In the environment, a JSON
    # list: SMARTCROP_SERVICE__IMAGE_FETCH__ALLOWED_HOSTS='["127.0.0.1:8000"]'.
    allowed_hosts: list[str] = Field(default_factory=list)
    # True: every address but the scheme check is allowed (a closed test network).
    allow_private_networks: bool = False

    @field_validator("allowed_hosts")
    @classmethod
    def _check_hosts(cls, value: list[str]) -> list[str]:
        from smartcrop.netfetch import parse_allowed_host  # noqa: PLC0415

        for entry in value:
            parse_allowed_host(entry)
        return value


class SmartcropService(_Section):
    dagster: DagsterConfig = Field(default_factory=DagsterConfig)
    cdn: CdnConfig = Field(default_factory=CdnConfig)
    lock_timeout_minutes: int = Field(default=30, gt=0)
    # A programme QA sent back is offered only to the operator who last finished it
    # for this long (then to anyone); 0: to anyone at once.
    sendback_affinity_minutes: int = Field(default=60, ge=0)
    max_rendition_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    # Aspect ratios (titles of the lookup, e.g. "16x9") every image needs a rendition
    # of before it is finished or approved; empty: any one rendition will do. In the
    # environment, a JSON list: SMARTCROP_SERVICE__REQUIRED_ASPECT_RATIOS='["16x9"]'.
    required_aspect_ratios: list[str] = Field(default_factory=list)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    auth: AuthConfig = Field(default_factory=AuthConfig)
    image_fetch: ImageFetchConfig = Field(default_factory=ImageFetchConfig)
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, gt=0, lt=65536)

    @field_validator("required_aspect_ratios")
    @classmethod
    def _known_aspect_ratios(cls, value: list[str]) -> list[str]:
        # A misspelt ratio would refuse every finish with a message operators cannot
        # act on: refuse it at start-up instead.
        from smartcrop.lookups import ASPECT_RATIOS  # noqa: PLC0415

        known = [ratio.title for ratio in ASPECT_RATIOS]
        unknown = [title for title in value if title not in known]
        if unknown:
            raise ValueError(
                f"unknown aspect ratios {unknown}; the aspect ratios are {known}"
            )
        return list(dict.fromkeys(value))


class DatabaseConfig(_Section):
    # Empty: the project starts its own embedded PostgreSQL in embedded_dir.
    url: SecretStr = SecretStr("")
    embedded_dir: Path = Path(".smartcrop/pgdata")


class LocalFilesystemConfig(_Section):
    root_path: Path = Path(".smartcrop/staging")
    quarantine_path: Path = Path(".smartcrop/quarantine")
    work_dir: Path = Path(".smartcrop/work")


class MiddlewareEntry(_Section):
    """One entry of the legacy ``processing_middleware.middleware`` table."""

    # None: processing_middleware.local_filesystem.root_path.
    root_path: Path | None = None
    # The staging folder under root_path; None: root_path itself.
    folder_name: str | None = None


class ProcessingMiddleware(_Section):
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


class S3Source(_Section):
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


class ProxyConfig(_Section):
    host: str
    port: int = Field(gt=0, lt=65536)


class SftpSource(_Section):
    host: str
    port: int = Field(default=22, gt=0, lt=65536)
    directory: str = "."
    credentials: Credentials = Field(default_factory=Credentials)
    proxy: ProxyConfig | None = None
    known_hosts: Path | None = None


class FilewatcherConfig(_Section):
    s3_sources: list[S3Source] = Field(default_factory=list)
    sftp_sources: list[SftpSource] = Field(default_factory=list)
    sensor_interval_seconds: int = Field(default=30, gt=0)


class FtpPorts(_Section):
    output: int = Field(default=22, gt=0, lt=65536)
    audit: int = Field(default=22, gt=0, lt=65536)


class FtpDirectories(_Section):
    output: str = "outbound"
    audit: str = "audit"


class SmartcropFtpConfig(_Section):
    host: str = ""
    ports: FtpPorts = Field(default_factory=FtpPorts)
    directories: FtpDirectories = Field(default_factory=FtpDirectories)
    credentials: Credentials = Field(default_factory=Credentials)
    proxy: ProxyConfig | None = None
    known_hosts: Path | None = None


def _default_provider_groups() -> dict[str, dict[str, str]]:
    # One table of default prefixes, owned by the manifest layer.
    from smartcrop.ingestion.manifests.providers import (
        DEFAULT_PROVIDER_FILE_TYPE,
    )  # noqa: PLC0415

    return {
        group: dict(prefixes) for group, prefixes in DEFAULT_PROVIDER_FILE_TYPE.items()
    }


class ProviderFileType(_Section):
    """File-name prefix -> provider name, one mapping per layout group."""

    group_a: dict[str, str] = Field(
        default_factory=lambda: _default_provider_groups()["group_a"]
    )
    group_b: dict[str, str] = Field(
        default_factory=lambda: _default_provider_groups()["group_b"]
    )
    group_c: dict[str, str] = Field(
        default_factory=lambda: _default_provider_groups()["group_c"]
    )
    group_d: dict[str, str] = Field(
        default_factory=lambda: _default_provider_groups()["group_d"]
    )

    def as_mapping(self) -> dict[str, dict[str, str]]:
        return self.model_dump()


class FilewatcherSettings(_Section):
    provider_file_type: ProviderFileType = Field(default_factory=ProviderFileType)


class BatchJobConfig(_Section):
    output_dir: Path = Path(".smartcrop/outbound")
    max_rows: int | None = Field(default=None, gt=0)
    targets: list[Literal["s3", "sftp"]] = Field(default_factory=list)
    s3_prefix: str = "manifests/"
    schedule: str = "0 2 * * *"

    @model_validator(mode="before")
    @classmethod
    def _legacy_keys(cls, data: Any) -> Any:
        return _drop_legacy_keys(data, "smartcrop_filewatcher_batchjob")

    @field_validator("max_rows", mode="before")
    @classmethod
    def _empty_is_all(cls, value: Any) -> Any:
        # The legacy config writes an empty value for "no restriction".
        return None if value in ("", None) else value


class DumpFilenames(_Section):
    program: str = "SmartCrop_Program"
    aspect: str = "SmartCrop_Aspect"
    summary: str = "SmartCrop_Summary"
    audit: str = "SmartCrop_Audit"


class DumpDataConfig(_Section):
    local_path: Path = Path(".smartcrop/dumps")
    filenames: DumpFilenames = Field(default_factory=DumpFilenames)
    date_range: int = Field(default=1, ge=1, le=30)
    schedule: str = "30 2 * * *"


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
    ignored: list[tuple[str, str]] = []
    ignored_token = _ignored_keys.set(ignored)
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None
    except (OSError, ValueError, yaml.YAMLError) as exc:
        # A YAML syntax error or an unreadable file surfaces here.
        raise SettingsError(f"cannot read configuration: {exc}") from None
    finally:
        _ignored_keys.reset(ignored_token)
        _config_file.reset(token)
    _warn_ignored(ignored)
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
