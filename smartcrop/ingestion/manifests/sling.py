"""Sling layout (group_c)."""

from __future__ import annotations

from smartcrop.ingestion.manifests.layout import Layout

LAYOUT = Layout(
    name="sling",
    required=("PROGRAM_ID", "SERIES_NAME", "IMAGE_LINK"),
    optional=("ASSET_ID", "EPISODE_NAME", "IMAGE_TYPE", "LANG", "IMG_W", "IMG_H"),
    columns={
        "program_id": "PROGRAM_ID",
        "program_title": "SERIES_NAME",
        "episode_title": "EPISODE_NAME",
        "image_url": "IMAGE_LINK",
        "image_type": "IMAGE_TYPE",
        "language": "LANG",
        "width": "IMG_W",
        "height": "IMG_H",
        "source_ref": "ASSET_ID",
    },
)
