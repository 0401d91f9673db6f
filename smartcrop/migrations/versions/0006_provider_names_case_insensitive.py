"""Provider names match case-insensitively in claims and the provider list.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04

An operator typing ``nbcu`` gets NBCU's queue: the claim statements compare
``lower(providername) = lower(:provider)``. The operator-queue index is rebuilt on
that expression, so a claim still reads the provider's free rows oldest first from
the index instead of sorting them (the same columns after the first; the index holds
only the queue's free rows, so it is small to rebuild). The provider list counts
the spellings of one name together under the stored name (when work items hold more
than one spelling, the first in byte order of those that still have work items).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

QUEUE_INDEX = "ix_smartcrop_programimage_operator_queue"
QUEUE_ROWS = sa.text("status = 1 AND currentstate = 0")

# Spellings with no work item left (their count rows stay, at 0) are not shown. Of
# several spellings the first in byte order is shown (upper case first: "NBCU" over
# "Nbcu"), whatever the database's collation; the list is still sorted by it.
PROVIDER_LIST = """
CREATE VIEW view_smartcrop_providerlist_total AS
WITH spelling AS (
    SELECT providername, status, sum(items) AS items
    FROM smartcrop_workitem_counts
    GROUP BY providername, status
    HAVING sum(items) <> 0
)
SELECT CAST(min(providername COLLATE "C") AS varchar(64)) COLLATE "default"
         AS providername,
       sum(items)::int AS totalimages,
       coalesce(sum(items) FILTER (WHERE status = 1), 0)::int AS pendingoperator,
       coalesce(sum(items) FILTER (WHERE status = 2), 0)::int AS pendingqa,
       coalesce(sum(items) FILTER (WHERE status = 3), 0)::int AS completed,
       coalesce(sum(items) FILTER (WHERE status = 4), 0)::int AS rejected
FROM spelling
GROUP BY lower(providername)
HAVING sum(items) > 0;
"""

# Migration 0004's view, for the downgrade.
OLD_PROVIDER_LIST = """
CREATE VIEW view_smartcrop_providerlist_total AS
SELECT providername,
       sum(items)::int AS totalimages,
       coalesce(sum(items) FILTER (WHERE status = 1), 0)::int AS pendingoperator,
       coalesce(sum(items) FILTER (WHERE status = 2), 0)::int AS pendingqa,
       coalesce(sum(items) FILTER (WHERE status = 3), 0)::int AS completed,
       coalesce(sum(items) FILTER (WHERE status = 4), 0)::int AS rejected
FROM smartcrop_workitem_counts
GROUP BY providername
HAVING sum(items) > 0;
"""


def upgrade() -> None:
    op.drop_index(QUEUE_INDEX, table_name="smartcrop_programimage")
    op.create_index(
        QUEUE_INDEX,
        "smartcrop_programimage",
        [sa.literal_column("lower(providername)"), "createdat", "link_object_id"],
        postgresql_where=QUEUE_ROWS,
    )
    op.execute("DROP VIEW view_smartcrop_providerlist_total")
    op.execute(PROVIDER_LIST)
    # Statistics of the new index's expression, so the first claims are planned on
    # them rather than on a guess.
    op.execute("ANALYZE smartcrop_programimage")


def downgrade() -> None:
    op.execute("DROP VIEW view_smartcrop_providerlist_total")
    op.execute(OLD_PROVIDER_LIST)
    op.drop_index(QUEUE_INDEX, table_name="smartcrop_programimage")
    op.create_index(
        QUEUE_INDEX,
        "smartcrop_programimage",
        ["providername", "createdat", "link_object_id"],
        postgresql_where=QUEUE_ROWS,
    )
