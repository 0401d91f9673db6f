"""The audit's index by work item holds each move in order: what TeamStats reads.

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-10

``/report/TeamStats`` looks up, for every finish of the period, the image's last
claim before it and QA's first decision after it. The index on ``programimageid``
alone made each lookup read every audit row of the image from the table; this one
is ordered by ``(programimageid, id)`` and carries ``action`` and ``createdat``, so
each lookup reads a few index entries and no table page (the audit is append-only,
so its pages stay all-visible). It replaces the old index, which it covers: a move
still updates one index here, and ``audit.history`` reads its rows in order from it.

(Revises 0006: another migration after 0006 is written alongside this one; whichever
lands second is re-pointed to the other, which changes nothing else here.)
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLE = "smartcrop_programimage_audit"
OLD = "ix_smartcrop_programimage_audit_programimageid"
NEW = "ix_smartcrop_programimage_audit_image_moves"


def upgrade() -> None:
    op.create_index(
        NEW,
        TABLE,
        ["programimageid", "id"],
        postgresql_include=["action", "createdat"],
    )
    op.drop_index(OLD, table_name=TABLE)


def downgrade() -> None:
    op.create_index(OLD, TABLE, ["programimageid"])
    op.drop_index(NEW, table_name=TABLE)
