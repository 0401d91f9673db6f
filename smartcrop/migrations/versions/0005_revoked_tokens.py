"""Revoked tokens: POST /user/Logout ends the calling token at once.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04

``smartcrop_revokedtoken`` holds the id (``jti``) of every token ended before its
expiry, until that expiry; every API process checks it on each request. Generated
from ``smartcrop/db/models.py``; a test checks that both agree.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "smartcrop_revokedtoken",
        sa.Column("tokenid", sa.String(length=64), nullable=False),
        sa.Column("userid", sa.Integer(), nullable=False),
        sa.Column("expiresat", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "revokedat",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["userid"],
            ["smartcrop_user.id"],
            name=op.f("fk_smartcrop_revokedtoken_userid_smartcrop_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tokenid", name=op.f("pk_smartcrop_revokedtoken")),
    )
    op.create_index(
        "ix_smartcrop_revokedtoken_expiresat",
        "smartcrop_revokedtoken",
        ["expiresat"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_smartcrop_revokedtoken_expiresat", table_name="smartcrop_revokedtoken"
    )
    op.drop_table("smartcrop_revokedtoken")
