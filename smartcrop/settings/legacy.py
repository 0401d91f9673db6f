"""Legacy config files load as they are: keys SmartCrop reads no more are accepted,
dropped and named once in a WARNING, never a refusal.

A load collects what it dropped (``warned_after_load``) and warns only when it
succeeds, so a file that is refused does not also warn. Other legacy spellings that
still mean something are read where their section is (``sources``: the
``processing_middleware.middleware`` table and the S3 ``endpoint``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

# The name operators see in the log (and the README shows): the settings' logger.
log = logging.getLogger("smartcrop.settings")

# Keys of legacy config files that SmartCrop reads no more, by section, with the reason
# the warning gives: accepted so that such a file loads as it is, never a refusal.
LEGACY_IGNORED: dict[str, dict[str, str]] = {
    "smartcrop_filewatcher_batchjob": {
        key: "the nightly manifest is built by SmartCrop's own query on the tables "
        "its migrations create"
        for key in (
            "view_name",
            "programimage_table",
            "aspectratio_table",
            "imagetype_table",
            "role_table",
        )
    },
}
# Ignored keys found by the load under way (see warned_after_load); None outside a
# load, where a key is warned about at once.
_ignored_keys: ContextVar[list[tuple[str, str]] | None] = ContextVar(
    "smartcrop_ignored_legacy_keys", default=None
)
# Keys already warned about in this process: settings are loaded again by every sensor
# tick and run, and a warning every 30 seconds would bury the rest of the log.
_warned_legacy_keys: set[str] = set()


def drop_legacy_keys(data: Any, section: str) -> Any:
    """``data`` without the ignored legacy keys of ``section``, each noted."""
    ignored = LEGACY_IGNORED[section]
    if not isinstance(data, Mapping) or not any(key in data for key in ignored):
        return data
    for key in ignored:
        if key in data:
            _note_ignored(f"{section}.{key}", ignored[key])
    return {key: value for key, value in data.items() if key not in ignored}


def _note_ignored(key: str, reason: str) -> None:
    found = _ignored_keys.get()
    if found is None:
        _warn_ignored([(key, reason)])
    else:
        found.append((key, reason))


def _warn_ignored(found: list[tuple[str, str]]) -> None:
    for key, reason in found:
        if key not in _warned_legacy_keys:
            _warned_legacy_keys.add(key)
            log.warning("ignored legacy key %s: %s", key, reason)


@contextmanager
def warned_after_load() -> Iterator[None]:
    """Collect the ignored keys the block drops, and warn about them once it
    succeeded (a block that raises warns about nothing)."""
    ignored: list[tuple[str, str]] = []
    token = _ignored_keys.set(ignored)
    try:
        yield
    finally:
        _ignored_keys.reset(token)
    _warn_ignored(ignored)
