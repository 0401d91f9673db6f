"""Dagster resources: the clients the assets and sensors are given, thin
ConfigurableResources over the domain's.

``build_resources`` makes every one; ``pipelines/definitions.py`` gives them to the
code location (a test or a deployment passes its own to swap one), and the API's run
submission uses the same for its listings.
"""

from __future__ import annotations

from typing import TypedDict

from resources.database import DatabaseResource
from resources.s3 import S3ClientResource
from resources.settings import SettingsResource
from resources.sftp import SftpResource
from resources.storage import RenditionStorageResource


class Resources(TypedDict):
    """Every resource, by the key the assets and sensors name it with."""

    database: DatabaseResource
    settings: SettingsResource
    s3: S3ClientResource
    sftp: SftpResource
    rendition_storage: RenditionStorageResource


def build_resources(
    database_url: str = "", config_path: str | None = None
) -> Resources:
    """The resources for a database and a settings file (default: configured)."""
    return {
        "database": DatabaseResource(url=database_url),
        "settings": SettingsResource(config_path=config_path),
        "s3": S3ClientResource(),
        "sftp": SftpResource(),
        "rendition_storage": RenditionStorageResource(),
    }


__all__ = [
    "DatabaseResource",
    "RenditionStorageResource",
    "Resources",
    "S3ClientResource",
    "SettingsResource",
    "SftpResource",
    "build_resources",
]
