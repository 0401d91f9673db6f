"""The fill: a year of a busy team's work, in SQL, as a restore loads it."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from bench.harness.database import BenchDatabase
from bench.scale import PROVIDERS

FILL_ITEMS = """
SELECT setseed(%(seed)s);
INSERT INTO smartcrop_programimage (link_object_id, providername, programtitle,
    imageurl, imagetypeid, languageid, width, height, status, currentstate,
    rejectreasonid, croppedby, croppedat, reviewedby, reviewedat, completedby,
    completedat, outputfilename, exportedat, createdat, updatedat)
SELECT 'SH' || lpad((g / 2)::text, 9, '0'),
       (%(providers)s::text[])[1 + (g / 2) %% 6],
       'Programme ' || (g / 2) %% 5000,
       'https://images.example.com/' || g || '.jpg',
       1 + g %% 6, 1, 2000, 3000,
       s.status, 0,
       CASE WHEN s.status = 4 THEN 1 END,
       CASE WHEN s.status >= 2 THEN s.op END,
       CASE WHEN s.status >= 2 THEN s.t + interval '2 hours' END,
       CASE WHEN s.status IN (3, 4) THEN s.qa END,
       CASE WHEN s.status IN (3, 4) THEN s.t + interval '5 hours' END,
       CASE WHEN s.status = 3 THEN s.qa END,
       CASE WHEN s.status = 3 THEN s.t + interval '5 hours' END,
       CASE WHEN s.status = 3 THEN 'SmartCrop_' || to_char(s.t, 'YYYYMMDD') || '.csv'
       END,
       CASE WHEN s.status = 3 THEN s.t + interval '1 day' END,
       s.t, s.t
FROM generate_series(0, %(items)s - 1) g
CROSS JOIN LATERAL (
  SELECT CASE WHEN r < 0.95 THEN 3 WHEN r < 0.97 THEN 1 WHEN r < 0.98 THEN 2
              ELSE 4 END AS status,
         %(start)s::timestamptz
           + make_interval(secs => (g::float8 / %(items)s) * 365 * 86400) AS t,
         (%(operators)s::int[])[1 + (random() * 1000)::int %% %(n_operators)s] AS op,
         (%(reviewers)s::int[])[1 + (random() * 1000)::int %% %(n_reviewers)s] AS qa
  FROM (SELECT random() AS r, g AS keep) pick
) s;
"""

FILL_RENDITIONS = """
INSERT INTO smartcrop_aspectratioimages (programimageid, link_object_id,
    aspectratioid, cropx, cropy, cropwidth, cropheight, storagekey, imageurl,
    filesize, createdby, createdat, updatedby, updatedat)
SELECT p.id, p.link_object_id, ar.id, 0, 0, 1080 * ar.ratiowidth / ar.ratioheight,
       1080, p.providername || '/' || p.id || '/' || ar.title || '.jpg',
       'https://cdn.example.com/' || p.id || '/' || ar.title || '.jpg', 20000,
       p.croppedby, p.croppedat, p.croppedby, p.croppedat
FROM smartcrop_programimage p CROSS JOIN smartcrop_aspectratio_lookup ar
WHERE p.status = 3;
"""

FILL_AUDIT = """
INSERT INTO smartcrop_programimage_audit (programimageid, link_object_id, userid,
    action, fromstatus, fromstate, tostatus, tostate, createdat)
SELECT p.id, p.link_object_id, p.croppedby,
       (ARRAY['claim', 'finish', 'approve'])[k],
       (ARRAY[1, 1, 2])[k], (ARRAY[0, 1, 1])[k], (ARRAY[1, 2, 3])[k],
       (ARRAY[1, 0, 0])[k], p.createdat + make_interval(hours => k)
FROM smartcrop_programimage p CROSS JOIN generate_series(1, 3) k
WHERE p.status >= 2;
"""

SECONDARY_INDEXES = """
SELECT i.indexname, i.indexdef FROM pg_indexes i
JOIN pg_class c ON c.relname = i.indexname
JOIN pg_index x ON x.indexrelid = c.oid
WHERE i.tablename IN ('smartcrop_programimage', 'smartcrop_aspectratioimages',
                      'smartcrop_programimage_audit')
  AND NOT x.indisprimary
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid)
"""


def fill(url: str, items: int, seed: int, operators: list[int], reviewers: list[int]):
    """The year of data, in SQL; returns (seconds, rows per table)."""
    import psycopg  # noqa: PLC0415

    start = time.perf_counter()
    first_day = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0)
    first_day -= timedelta(days=365)
    with psycopg.connect(BenchDatabase.libpq(url), autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET max_parallel_maintenance_workers = 2")
        indexes = conn.execute(SECONDARY_INDEXES).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        with conn.transaction():
            # A bulk load as a restore makes it: no triggers, no per-row checks;
            # the kept counts are rebuilt below, as `smartcrop recount` does.
            conn.execute("SET LOCAL session_replication_role = replica")
            conn.execute("SET LOCAL synchronous_commit = off")
            params = {
                "seed": (seed % 1000) / 1000,
                "providers": list(PROVIDERS),
                "items": items,
                "start": first_day,
                "operators": operators,
                "reviewers": reviewers,
                "n_operators": len(operators),
                "n_reviewers": len(reviewers),
            }
            for statement in FILL_ITEMS.strip().split(";\n"):
                if statement.strip():
                    conn.execute(statement, params)
            conn.execute(FILL_RENDITIONS)
            conn.execute(FILL_AUDIT)
        for _, definition in indexes:
            conn.execute(definition)
        conn.execute("VACUUM ANALYZE")
        conn.execute("SELECT * FROM smartcrop_recount()")
        # Gigabytes just written: flush them now, not while the timings run.
        conn.execute("CHECKPOINT")
        count = "SELECT count(*) FROM {}"
        rows = {
            table: conn.execute(count.format(table)).fetchone()[0]
            for table in (
                "smartcrop_programimage",
                "smartcrop_aspectratioimages",
                "smartcrop_programimage_audit",
            )
        }
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    return time.perf_counter() - start, rows, int(size[0]) if size else 0
