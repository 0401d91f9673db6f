"""TMDB layout (group_b): image paths relative to TMDB's image server."""

from __future__ import annotations

from urllib.parse import urlsplit

from smartcrop.ingestion.manifests.layout import Layout

TMDB_IMAGE_BASE_URL = "https://image.tmdb.org/t/p/original"


def tmdb_image_url(file_path: str) -> str:
    """``TMDB_IMAGE_BASE_URL`` + ``file_path`` (contract section 5).

    A path without its leading "/" still means a path on the image server. A value that
    is already a URL (it has a scheme) is taken as given: gluing it onto the base would
    make an http(s)-looking URL that points nowhere and would pass the URL check.
    """
    if file_path.startswith("/"):
        # What TMDB sends. urlsplit only finds a scheme that starts with a letter, so
        # its answer is known; asking costs more than the row's other rules.
        return TMDB_IMAGE_BASE_URL + file_path
    try:
        has_scheme = bool(urlsplit(file_path).scheme)
    except ValueError:  # e.g. an unbalanced "[": not a URL, so a path
        has_scheme = False
    if has_scheme:
        return file_path
    if not file_path.startswith("/"):
        file_path = "/" + file_path
    return TMDB_IMAGE_BASE_URL + file_path


LAYOUT = Layout(
    name="tmdb",
    required=("tivo_program_id", "title", "file_path"),
    optional=("tmdb_id", "image_type", "iso_639_1", "width", "height"),
    columns={
        "program_id": "tivo_program_id",
        "program_title": "title",
        "image_url": "file_path",
        "image_type": "image_type",
        "language": "iso_639_1",
        "width": "width",
        "height": "height",
        "source_ref": "tmdb_id",
    },
    image_url=tmdb_image_url,
)
