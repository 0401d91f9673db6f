"""Provider manifests: which provider sent a file, and its rows as common ParsedRows.

Plain Python (no dagster, fastapi or database): the ingest step and the API call this.

    match = require_provider(name, settings_mapping)   # or detect_provider -> None
    manifest = open_manifest(path, match)              # ManifestError for a bad file
    for row in manifest.rows():                        # streamed, one row at a time
        ...  # row.reject_reason is None for a row to ingest
"""

from smartcrop.ingestion.manifests.errors import (
    FAILURE_KINDS,
    NO_HEADER_ROW,
    NO_PROVIDER_PREFIX,
    NOT_READABLE,
    ManifestError,
)
from smartcrop.ingestion.manifests.layout import Layout
from smartcrop.ingestion.manifests.providers import (
    DEFAULT_PROVIDER_FILE_TYPE,
    GROUP_LAYOUTS,
    LAYOUTS,
    ProviderMatch,
    detect_provider,
    is_manifest_name,
    require_provider,
)
from smartcrop.ingestion.manifests.reader import (
    HEADER_SEARCH_ROWS,
    Manifest,
    open_manifest,
)
from smartcrop.ingestion.manifests.rows import (
    IMAGE_NOTES_DEFAULT,
    RIGHTS_NAME_DEFAULT,
    ParsedRow,
)
from smartcrop.ingestion.manifests.tmdb import TMDB_IMAGE_BASE_URL

__all__ = [
    "DEFAULT_PROVIDER_FILE_TYPE",
    "FAILURE_KINDS",
    "GROUP_LAYOUTS",
    "HEADER_SEARCH_ROWS",
    "IMAGE_NOTES_DEFAULT",
    "LAYOUTS",
    "NO_HEADER_ROW",
    "NO_PROVIDER_PREFIX",
    "NOT_READABLE",
    "RIGHTS_NAME_DEFAULT",
    "TMDB_IMAGE_BASE_URL",
    "Layout",
    "Manifest",
    "ManifestError",
    "ParsedRow",
    "ProviderMatch",
    "detect_provider",
    "is_manifest_name",
    "open_manifest",
    "require_provider",
]
