"""Press-site layout (group_a: NBCU, DISNEY, WBD, PARAMOUNT, ...)."""

from __future__ import annotations

from smartcrop.ingestion.manifests.layout import Layout

LAYOUT = Layout(
    name="press_site",
    required=("Program ID", "Program Title", "Image URL"),
    optional=(
        "Episode Title",
        "Season",
        "Episode",
        "Image Type",
        "Language",
        "Width",
        "Height",
        "Rights",
        "Notes",
    ),
    columns={
        "program_id": "Program ID",
        "program_title": "Program Title",
        "episode_title": "Episode Title",
        "season": "Season",
        "episode": "Episode",
        "image_url": "Image URL",
        "image_type": "Image Type",
        "language": "Language",
        "width": "Width",
        "height": "Height",
        "rights": "Rights",
        "notes": "Notes",
    },
)
