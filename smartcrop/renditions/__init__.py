"""Renditions: a crop checked (Pillow), stored (a local folder or S3) and served
behind the CDN.

The public functions are named here.
"""

from smartcrop.renditions.cdn import cdn_url, rewrite_url
from smartcrop.renditions.storage import (
    LocalStorage,
    RenditionStorage,
    S3Storage,
    StorageError,
    open_storage,
    rendition_key,
    storage_from_settings,
)
from smartcrop.renditions.validation import (
    AspectRatioSpec,
    CropBox,
    DecodedImage,
    check_crop_box,
    decode_image,
)

__all__ = [
    "AspectRatioSpec",
    "CropBox",
    "DecodedImage",
    "LocalStorage",
    "RenditionStorage",
    "S3Storage",
    "StorageError",
    "check_crop_box",
    "cdn_url",
    "decode_image",
    "open_storage",
    "rendition_key",
    "rewrite_url",
    "storage_from_settings",
]
