"""Which provider sent a manifest and in which layout, from its file-name prefix.

Configured under ``smartcrop_filewatcher_settings.provider_file_type`` (contract
section 5): one prefix -> provider mapping per group, and the group fixes the layout.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from smartcrop.ingestion.manifests import email, press_site, sling, tmdb
from smartcrop.ingestion.manifests.errors import NO_PROVIDER_PREFIX, ManifestError
from smartcrop.ingestion.manifests.layout import Layout
from smartcrop.settings.sources import DEFAULT_PROVIDER_GROUPS

LAYOUTS: Mapping[str, Layout] = MappingProxyType(
    {
        layout.name: layout
        for layout in (press_site.LAYOUT, tmdb.LAYOUT, sling.LAYOUT, email.LAYOUT)
    }
)

GROUP_LAYOUTS: Mapping[str, str] = MappingProxyType(
    {
        "group_a": press_site.LAYOUT.name,
        "group_b": tmdb.LAYOUT.name,
        "group_c": sling.LAYOUT.name,
        "group_d": email.LAYOUT.name,
    }
)

# The contract's default prefix table, as the settings default it (read-only here).
DEFAULT_PROVIDER_FILE_TYPE: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        group: MappingProxyType(dict(prefixes))
        for group, prefixes in DEFAULT_PROVIDER_GROUPS.items()
    }
)


@dataclass(frozen=True, slots=True)
class ProviderMatch:
    group: str  # "group_a" .. "group_d"
    layout: str  # a key of LAYOUTS
    provider: str  # e.g. "NBCU"


def base_name(filename: str) -> str:
    # Names may come as paths or S3 keys; only the last part carries the prefix.
    return re.split(r"[\\/]", filename)[-1]


def is_manifest_name(filename: str) -> bool:
    """Only ``.xlsx`` files (any case) are picked up; anything else is left alone."""
    return base_name(filename).lower().endswith(".xlsx")


def _prefix_table(
    provider_file_type: Mapping[str, Mapping[str, str]],
) -> list[tuple[str, ProviderMatch]]:
    """(casefolded prefix, match), longest prefix first.

    A configuration that cannot give one answer per file name is refused here, loudly,
    rather than sending files to a provider chosen by dictionary order.
    """
    seen: dict[str, ProviderMatch] = {}
    for group, prefixes in provider_file_type.items():
        if group not in GROUP_LAYOUTS:
            raise ValueError(
                f"provider_file_type has an unknown group {group!r}; "
                f"known groups: {', '.join(GROUP_LAYOUTS)}"
            )
        for prefix, provider in prefixes.items():
            key = prefix.casefold()
            if not key.strip() or not str(provider).strip():
                raise ValueError(
                    f"provider_file_type.{group} has an empty prefix or provider"
                )
            match = ProviderMatch(group, GROUP_LAYOUTS[group], provider)
            if seen.get(key, match) != match:
                raise ValueError(
                    f"provider_file_type maps the prefix {prefix!r} twice "
                    f"({seen[key].group}, {group})"
                )
            seen[key] = match
    return sorted(seen.items(), key=lambda item: len(item[0]), reverse=True)


def detect_provider(
    filename: str, provider_file_type: Mapping[str, Mapping[str, str]]
) -> ProviderMatch | None:
    """The provider whose prefix starts the file name (case-insensitive; the longest
    matching prefix wins, so "NBCU_KIDS_" can sit beside "NBCU_"), or None."""
    name = base_name(filename).casefold()
    for prefix, match in _prefix_table(provider_file_type):
        if name.startswith(prefix):
            return match
    return None


def require_provider(
    filename: str, provider_file_type: Mapping[str, Mapping[str, str]]
) -> ProviderMatch:
    """Like detect_provider, but a name without a known prefix is a ManifestError of
    kind "no provider prefix", worded the same for every caller."""
    match = detect_provider(filename, provider_file_type)
    if match is None:
        known = sorted(
            prefix for prefixes in provider_file_type.values() for prefix in prefixes
        )
        raise ManifestError(
            NO_PROVIDER_PREFIX,
            f"{base_name(filename)!r} starts with none of the configured prefixes "
            f"({', '.join(known)})",
        )
    return match
