"""The rendition store as a Dagster resource.

The settings choose the store (``smartcrop_service.storage.backend``: a folder, or the
renditions bucket and how it is reached); for an S3 store this resource is the S3
resource its client comes from, with the short timeouts the API uses, so a test or a
deployment swaps the store's S3 by resource.
"""

from __future__ import annotations

from pydantic import Field

from resources.s3 import S3ClientResource
from smartcrop.renditions.storage import (
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    RenditionStorage,
    open_storage,
)
from smartcrop.settings import Settings


class RenditionStorageResource(S3ClientResource):
    """Where rendition images live, as the settings choose; an S3 store's client is
    made from this resource's fields (``S3ClientResource``'s).

    An S3 resource itself rather than one holding a nested ``S3ClientResource``: a
    nested resource makes Dagster set resources up as context managers, which every
    sensor context built without ``with`` would then refuse."""

    connect_timeout: float = Field(default=CONNECT_TIMEOUT, description="Seconds.")
    read_timeout: float = Field(default=READ_TIMEOUT, description="Seconds.")

    def open(self, settings: Settings) -> RenditionStorage:
        return open_storage(settings, self.make_client)
