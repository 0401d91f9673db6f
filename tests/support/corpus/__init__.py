"""A corpus of broken and hostile provider files, generated into a folder at test time.

Nothing here is committed as a binary: every file is written from code, most of them as
raw OOXML parts zipped by hand, so that the odd ones (a million rows, a column at XFD,
a bomb) are exact and fast to make. Each :class:`Case` says what a user of SmartCrop
must see once the file has gone through ingestion:

- ``ingested``: recorded ``ingested`` with ``items`` new work items and ``rejected``
  rejected rows (each with its reason);
- ``failed``: recorded ``failed`` with an error starting with ``kind``, moved to the
  quarantine folder, and nothing of it in ``smartcrop_inputfiles``;
- ``ignored``: not a manifest file at all (a folder, a link, a FIFO): a watched folder
  leaves it where it is and nothing is recorded.
"""

from tests.support.corpus.cases import (
    CASES,
    FORBIDDEN_TEXT,
    FORMULA_TITLES,
    Case,
    by_id,
    create,
    prefix_of,
)
from tests.support.corpus.ooxml import good

__all__ = [
    "CASES",
    "FORBIDDEN_TEXT",
    "FORMULA_TITLES",
    "Case",
    "by_id",
    "create",
    "good",
    "prefix_of",
]
