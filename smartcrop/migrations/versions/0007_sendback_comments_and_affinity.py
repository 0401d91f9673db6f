"""QA's comment on a send-back or reject; a sent-back programme offered to its operator.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08

- ``smartcrop_programimage_audit.comment``: the free text a QA user (or an operator
  rejecting) gives with a move that needs a reason, at most 1,000 characters. Added
  nullable without a default, so no row is rewritten; the check is ``NOT VALID`` (every
  existing row is NULL) so adding it reads nothing either, and it holds for every new
  row.
- ``ix_smartcrop_programimage_sent_back``: the operator queue's sent-back rows (a free
  row of status 1 with a review time was sent back: only a send-back stamps
  ``reviewedat`` and leaves a row in the operator queue) by the operator who last
  finished them (``croppedby``). An operator's claim reads her own from it before the
  queue, whatever their number elsewhere; it holds only the rows waiting after a
  send-back, so it stays small.
- ``programimage_audit_reports(N)`` (the audit dump) gains the ``comment`` column, last.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

AUDIT = "smartcrop_programimage_audit"
COMMENT_CHECK = "ck_smartcrop_programimage_audit_comment_length"
SENT_BACK_INDEX = "ix_smartcrop_programimage_sent_back"
SENT_BACK_ROWS = sa.text("status = 1 AND currentstate = 0 AND reviewedat IS NOT NULL")

AUDIT_DUMP = """
CREATE FUNCTION programimage_audit_reports(p_days integer)
RETURNS TABLE (
    auditid bigint, imageid bigint, programid varchar, providername varchar,
    userid integer, username varchar, action varchar, fromstatus smallint,
    fromstate smallint, tostatus smallint, tostate smallint,
    rejectreasonid smallint, rejectreason varchar, createdat timestamptz{comment})
LANGUAGE sql STABLE AS $$
  SELECT au.id, au.programimageid, au.link_object_id, p.providername,
         au.userid, u.username, au.action, au.fromstatus, au.fromstate,
         au.tostatus, au.tostate, au.rejectreasonid, r.reason, au.createdat{select}
  FROM smartcrop_programimage_audit au
  LEFT JOIN smartcrop_programimage p ON p.id = au.programimageid
  LEFT JOIN smartcrop_user u ON u.id = au.userid
  LEFT JOIN smartcrop_rejectreason_lookup r ON r.id = au.rejectreasonid
  WHERE (au.createdat AT TIME ZONE 'UTC')::date
        >= (now() AT TIME ZONE 'UTC')::date - (greatest(p_days, 1) - 1)
  ORDER BY au.createdat, au.id
$$;
"""


def upgrade() -> None:
    op.add_column(AUDIT, sa.Column("comment", sa.Text(), nullable=True))
    op.execute(
        f"ALTER TABLE {AUDIT} ADD CONSTRAINT {COMMENT_CHECK}"
        " CHECK (char_length(comment) <= 1000) NOT VALID"
    )
    op.create_index(
        SENT_BACK_INDEX,
        "smartcrop_programimage",
        ["croppedby", "reviewedat"],
        postgresql_where=SENT_BACK_ROWS,
    )
    op.execute("DROP FUNCTION programimage_audit_reports(integer)")
    op.execute(AUDIT_DUMP.format(comment=", comment text", select=", au.comment"))


def downgrade() -> None:
    op.execute("DROP FUNCTION programimage_audit_reports(integer)")
    op.execute(AUDIT_DUMP.format(comment="", select=""))
    op.drop_index(SENT_BACK_INDEX, table_name="smartcrop_programimage")
    op.execute(f"ALTER TABLE {AUDIT} DROP CONSTRAINT {COMMENT_CHECK}")
    op.drop_column(AUDIT, "comment")
