"""Where SmartCrop's own files go: the delivery SFTP server, the nightly manifest
(batch job) and the dump snapshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from smartcrop.settings.legacy import drop_legacy_keys
from smartcrop.settings.shared import Credentials, ProxyConfig, Section


class FtpPorts(Section):
    output: int = Field(default=22, gt=0, lt=65536)
    audit: int = Field(default=22, gt=0, lt=65536)


class FtpDirectories(Section):
    output: str = "outbound"
    audit: str = "audit"


class SmartcropFtpConfig(Section):
    host: str = ""
    ports: FtpPorts = Field(default_factory=FtpPorts)
    directories: FtpDirectories = Field(default_factory=FtpDirectories)
    credentials: Credentials = Field(default_factory=Credentials)
    proxy: ProxyConfig | None = None
    known_hosts: Path | None = None


class BatchJobConfig(Section):
    output_dir: Path = Path(".smartcrop/outbound")
    max_rows: int | None = Field(default=None, gt=0)
    targets: list[Literal["s3", "sftp"]] = Field(default_factory=list)
    s3_prefix: str = "manifests/"
    schedule: str = "0 2 * * *"

    @model_validator(mode="before")
    @classmethod
    def _legacy_keys(cls, data: Any) -> Any:
        return drop_legacy_keys(data, "smartcrop_filewatcher_batchjob")

    @field_validator("max_rows", mode="before")
    @classmethod
    def _empty_is_all(cls, value: Any) -> Any:
        # The legacy config writes an empty value for "no restriction".
        return None if value in ("", None) else value


class DumpFilenames(Section):
    program: str = "SmartCrop_Program"
    aspect: str = "SmartCrop_Aspect"
    summary: str = "SmartCrop_Summary"
    audit: str = "SmartCrop_Audit"


class DumpDataConfig(Section):
    local_path: Path = Path(".smartcrop/dumps")
    filenames: DumpFilenames = Field(default_factory=DumpFilenames)
    date_range: int = Field(default=1, ge=1, le=30)
    schedule: str = "30 2 * * *"
