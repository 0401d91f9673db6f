"""Email layout (group_d): spreadsheets sent in by partners."""

from __future__ import annotations

from smartcrop.ingestion.manifests.layout import Layout

LAYOUT = Layout(
    name="email",
    required=("ProgramID", "Title", "ImageURL"),
    optional=("ImageType", "Language", "Notes", "SubmittedBy"),
    columns={
        "program_id": "ProgramID",
        "program_title": "Title",
        "image_url": "ImageURL",
        "image_type": "ImageType",
        "language": "Language",
        "notes": "Notes",
        "source_ref": "SubmittedBy",
    },
)
