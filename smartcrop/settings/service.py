"""The service's own settings: deployment, the API and its authentication, rendition
storage and the CDN, Dagster's address, server-side image fetches, the database."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from smartcrop.settings.shared import Section


class DeploymentConfig(Section):
    server: Literal["dev", "aws"] = "dev"


class CdnConfig(Section):
    origin_base_url: str = ""
    rewrite_base_url: str = ""


class StorageConfig(Section):
    backend: Literal["s3", "local"] = "local"
    local_root: Path = Path(".smartcrop/renditions")
    endpoint_url: str | None = None
    # The base URL under which stored renditions are served; the CDN rewrite is applied
    # to URLs built from it.
    public_base_url: str = "http://127.0.0.1:8000/renditions"


class AuthConfig(Section):
    # Empty in development: a random secret is generated once and kept in the data
    # folder. Required when deployment_config.server is "aws".
    jwt_secret: SecretStr | None = None
    token_ttl_seconds: int = Field(default=28800, gt=0)
    secret_file: Path = Path(".smartcrop/jwt_secret")


class DagsterConfig(Section):
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


class ImageFetchConfig(Section):
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


class SmartcropService(Section):
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


class DatabaseConfig(Section):
    # Empty: the project starts its own embedded PostgreSQL in embedded_dir.
    url: SecretStr = SecretStr("")
    embedded_dir: Path = Path(".smartcrop/pgdata")
