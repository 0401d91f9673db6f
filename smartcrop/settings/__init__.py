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

The sections are modules by what they describe: ``service`` (the API, storage, the
CDN, Dagster, the database), ``aws`` (accounts and buckets), ``sources`` (where
manifest files come from), ``delivery`` (the SFTP server, the manifest, the dumps),
with ``shared`` parts; ``loading`` holds the root ``Settings`` and ``load_settings``,
``legacy`` the keys read no more. Callers import everything from here.
"""

from smartcrop.settings.aws import AwsConfig, BucketConfig, S3Access, ServiceAccount
from smartcrop.settings.delivery import (
    BatchJobConfig,
    DumpDataConfig,
    DumpFilenames,
    FtpDirectories,
    FtpPorts,
    SmartcropFtpConfig,
)
from smartcrop.settings.legacy import LEGACY_IGNORED
from smartcrop.settings.loading import (
    CONFIG_ENV_VAR,
    DEFAULT_CONFIG_FILE,
    Settings,
    SettingsError,
    get_settings,
    load_settings,
)
from smartcrop.settings.service import (
    AuthConfig,
    CdnConfig,
    DagsterConfig,
    DatabaseConfig,
    DeploymentConfig,
    ImageFetchConfig,
    SmartcropService,
    StorageConfig,
)
from smartcrop.settings.shared import Credentials, ProxyConfig
from smartcrop.settings.sources import (
    DEFAULT_MIDDLEWARE,
    MIDDLEWARE_ENV_VAR,
    FilewatcherConfig,
    FilewatcherSettings,
    LocalFilesystemConfig,
    MiddlewareEntry,
    ProcessingMiddleware,
    ProviderFileType,
    S3Source,
    SftpSource,
)

__all__ = [
    "CONFIG_ENV_VAR",
    "DEFAULT_CONFIG_FILE",
    "DEFAULT_MIDDLEWARE",
    "LEGACY_IGNORED",
    "MIDDLEWARE_ENV_VAR",
    "AuthConfig",
    "AwsConfig",
    "BatchJobConfig",
    "BucketConfig",
    "CdnConfig",
    "Credentials",
    "DagsterConfig",
    "DatabaseConfig",
    "DeploymentConfig",
    "DumpDataConfig",
    "DumpFilenames",
    "FilewatcherConfig",
    "FilewatcherSettings",
    "FtpDirectories",
    "FtpPorts",
    "ImageFetchConfig",
    "LocalFilesystemConfig",
    "MiddlewareEntry",
    "ProcessingMiddleware",
    "ProviderFileType",
    "ProxyConfig",
    "S3Access",
    "S3Source",
    "ServiceAccount",
    "Settings",
    "SettingsError",
    "SftpSource",
    "SmartcropFtpConfig",
    "SmartcropService",
    "StorageConfig",
    "get_settings",
    "load_settings",
]
