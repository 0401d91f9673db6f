"""The four lookup tables (contract section 3) and how provider values map onto them.

The migrations seed the tables from these constants, the API lists them and the manifest
parser maps provider text onto their ids, so the ids and titles exist only here.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple


class Lookup(NamedTuple):
    id: int
    title: str


class AspectRatio(NamedTuple):
    id: int
    title: str
    width: int
    height: int


IMAGE_TYPES: tuple[Lookup, ...] = (
    Lookup(1, "Poster"),
    Lookup(2, "Banner"),
    Lookup(3, "Backdrop"),
    Lookup(4, "Episodic Still"),
    Lookup(5, "Logo"),
    Lookup(6, "Cast"),
)

IMAGE_LANGUAGES: tuple[Lookup, ...] = (
    Lookup(1, "English"),
    Lookup(2, "Spanish"),
    Lookup(3, "French"),
    Lookup(4, "German"),
    Lookup(5, "Portuguese"),
    Lookup(6, "Italian"),
    Lookup(7, "Japanese"),
    Lookup(8, "No Language"),
)

REJECT_REASONS: tuple[Lookup, ...] = (
    Lookup(1, "Low resolution"),
    Lookup(2, "Watermark or text overlay"),
    Lookup(3, "Wrong programme"),
    Lookup(4, "Inappropriate content"),
    Lookup(5, "Broken image link"),
    Lookup(6, "Duplicate image"),
    Lookup(7, "Other"),
)

ASPECT_RATIOS: tuple[AspectRatio, ...] = (
    AspectRatio(1, "16x9", 16, 9),
    AspectRatio(2, "4x3", 4, 3),
    AspectRatio(3, "3x4", 3, 4),
    AspectRatio(4, "2x3", 2, 3),
    AspectRatio(5, "1x1", 1, 1),
)

# Provider words for each image type, besides the type's own title.
_IMAGE_TYPE_WORDS: dict[int, tuple[str, ...]] = {
    1: ("poster", "key art"),
    2: ("banner",),
    3: ("backdrop", "background"),
    4: ("still", "episodic"),
    5: ("logo",),
    6: ("cast",),
}

# ISO 639-1, ISO 639-2 (bibliographic and terminology codes) and the English name.
# "zxx" is ISO 639-2 for "no linguistic content"; "xx" is how TMDB writes "No Language"
# in its iso_639_1 field, and is assigned to nothing else, so neither is a guess.
# Codes that only sound close ("und" undetermined, "mul" multiple) stay unknown.
_LANGUAGE_WORDS: dict[int, tuple[str, ...]] = {
    1: ("en", "eng", "english"),
    2: ("es", "spa", "spanish"),
    3: ("fr", "fre", "fra", "french"),
    4: ("de", "ger", "deu", "german"),
    5: ("pt", "por", "portuguese"),
    6: ("it", "ita", "italian"),
    7: ("ja", "jpn", "japanese"),
    8: ("no language", "zxx", "xx"),
}


_SEPARATORS = re.compile(r"[\s_-]+")


def _key(value: str) -> str:
    # Case, surrounding space, runs of spaces and "_"/"-" separators do not change a
    # word's meaning ("KEY_ART", "Key  Art", "key-art" are all key art).
    return " ".join(_SEPARATORS.split(value.strip().casefold())).strip()


def _index(
    titles: tuple[Lookup, ...], words: dict[int, tuple[str, ...]]
) -> dict[str, int]:
    index: dict[str, int] = {_key(row.title): row.id for row in titles}
    for lookup_id, synonyms in words.items():
        for word in synonyms:
            index[_key(word)] = lookup_id
    return index


_IMAGE_TYPE_INDEX: dict[str, int] = _index(IMAGE_TYPES, _IMAGE_TYPE_WORDS)
_LANGUAGE_INDEX: dict[str, int] = _index(IMAGE_LANGUAGES, _LANGUAGE_WORDS)

# A language tag such as "en-US" or "pt_BR": the part before the region is an ISO code.
_REGION_TAG = re.compile(r"^([a-z]{2,3})[-_][a-z0-9]{2,8}$")


# A manifest repeats a handful of provider spellings on every one of its rows, so each
# distinct value is worked out once (bounded: provider text is not trusted to be few).
_DISTINCT_VALUES = 4096


@lru_cache(maxsize=_DISTINCT_VALUES)
def image_type_id(value: str | None) -> int | None:
    """The image-type id for a provider's value, or None when it is unknown or empty."""
    if value is None:
        return None
    return _IMAGE_TYPE_INDEX.get(_key(value))


@lru_cache(maxsize=_DISTINCT_VALUES)
def language_id(value: str | None) -> int | None:
    """The language id for an ISO 639-1/639-2 code or English name, else None."""
    if value is None:
        return None
    text = value.strip().casefold()
    found = _LANGUAGE_INDEX.get(_key(text))
    if found is None:
        tagged = _REGION_TAG.match(text)
        if tagged is not None:
            found = _LANGUAGE_INDEX.get(tagged.group(1))
    return found


def title_of(table: tuple[Lookup, ...], lookup_id: int | None) -> str | None:
    """The title of an id in one of the tables above, or None."""
    for row in table:
        if row.id == lookup_id:
            return row.title
    return None
