"""Checking a written manifest against the database's stamps (Dagster asset checks).

The file is read back into a temporary table with ``COPY FROM STDIN`` (streamed, so a
large manifest is never held in memory) and compared in SQL with the rows stamped
with its name. The comparison is read-only and rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from smartcrop.db import bulk_connection
from smartcrop.exports.manifest_csv import COLUMNS

_CHUNK = 1 << 20


@dataclass(frozen=True)
class Verification:
    rows: int  # data rows in the file
    not_stamped: int  # file rows whose image is not stamped with this file
    stamped_not_in_file: int  # renditions of images stamped with it, missing in it
    duplicates: int  # (ImageId, AspectRatio) pairs appearing more than once
    stamp_times: int  # distinct exportedat values among its images (1: one stamp)

    @property
    def every_row_stamped(self) -> bool:
        return self.not_stamped == 0 and self.stamped_not_in_file == 0

    @property
    def stamped_once(self) -> bool:
        return self.duplicates == 0 and self.stamp_times <= 1


_CREATE = (
    "CREATE TEMPORARY TABLE smartcrop_manifest_check ("
    + ", ".join(f'"{column}" text' for column in COLUMNS)
    + ") ON COMMIT DROP"
)

_COMPARE = """
SELECT
  (SELECT count(*) FROM smartcrop_manifest_check),
  (SELECT count(*) FROM smartcrop_manifest_check m
     LEFT JOIN smartcrop_programimage p ON p.id = m."ImageId"::bigint
     WHERE p.outputfilename IS DISTINCT FROM %(file)s),
  (SELECT count(*) FROM smartcrop_programimage p
     JOIN smartcrop_aspectratioimages a ON a.programimageid = p.id
     JOIN smartcrop_aspectratio_lookup ar ON ar.id = a.aspectratioid
     WHERE p.outputfilename = %(file)s
       AND NOT EXISTS (SELECT 1 FROM smartcrop_manifest_check m
                       WHERE m."ImageId"::bigint = p.id
                         AND m."AspectRatio" = ar.title)),
  (SELECT count(*) FROM (SELECT 1 FROM smartcrop_manifest_check
                         GROUP BY "ImageId", "AspectRatio" HAVING count(*) > 1) d),
  (SELECT count(DISTINCT exportedat) FROM smartcrop_programimage
     WHERE outputfilename = %(file)s)
"""


def verify_manifest(engine: Engine, path: Path) -> Verification:
    """Compare the manifest at ``path`` (named as sent) with its stamps."""
    with bulk_connection(engine) as conn:
        conn.execute(_CREATE)
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY smartcrop_manifest_check FROM STDIN (FORMAT csv, HEADER true)"
            ) as copy,
            path.open("rb") as source,
        ):
            while block := source.read(_CHUNK):
                copy.write(block)
        row = conn.execute(_COMPARE, {"file": path.name}).fetchone()
        conn.rollback()
    assert row is not None
    return Verification(*(int(value) for value in row))
