"""Helpers of the manifest reader tests: the providers' matches, rows, a refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from smartcrop.ingestion.manifests import (
    DEFAULT_PROVIDER_FILE_TYPE,
    ManifestError,
    ParsedRow,
    detect_provider,
    open_manifest,
)

NBCU = detect_provider("NBCU_x.xlsx", DEFAULT_PROVIDER_FILE_TYPE)
TMDB = detect_provider("TMDB_x.xlsx", DEFAULT_PROVIDER_FILE_TYPE)
SLING = detect_provider("SLING_x.xlsx", DEFAULT_PROVIDER_FILE_TYPE)
EMAIL = detect_provider("EMAIL_x.xlsx", DEFAULT_PROVIDER_FILE_TYPE)


def read_rows(path: Path, match=NBCU) -> list[ParsedRow]:
    return list(open_manifest(path, match).rows())


def read_failure(path: Path, match=NBCU) -> ManifestError:
    with pytest.raises(ManifestError) as caught:
        open_manifest(path, match)
    return caught.value
