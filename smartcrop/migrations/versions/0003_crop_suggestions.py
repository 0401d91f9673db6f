"""Crop suggestions: a box per source image and aspect ratio, and the image fetches.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

``smartcrop_cropsuggestion`` holds the suggested box of each (source image, aspect
ratio), with its score and the method that found it; ``smartcrop_imagefetch`` the
last attempt to fetch a source image for analysis (``ok``, or ``failed`` with the
reason). Generated from ``smartcrop/db/models/suggestions.py``; a test checks that
both agree.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "smartcrop_cropsuggestion",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("programimageid", sa.BigInteger(), nullable=False),
        sa.Column("aspectratioid", sa.SmallInteger(), nullable=False),
        sa.Column("x", sa.Integer(), nullable=False),
        sa.Column("y", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column(
            "createdat",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "method IN ('face', 'saliency', 'centre')",
            name=op.f("ck_smartcrop_cropsuggestion_method"),
        ),
        sa.CheckConstraint(
            "width > 0 AND height > 0", name=op.f("ck_smartcrop_cropsuggestion_size")
        ),
        sa.CheckConstraint(
            "x >= 0 AND y >= 0", name=op.f("ck_smartcrop_cropsuggestion_origin")
        ),
        sa.CheckConstraint(
            "score >= 0 AND score <= 1", name=op.f("ck_smartcrop_cropsuggestion_score")
        ),
        sa.ForeignKeyConstraint(
            ["aspectratioid"],
            ["smartcrop_aspectratio_lookup.id"],
            name=op.f(
                "fk_smartcrop_cropsuggestion_aspectratioid_smartcrop_aspectratio_lookup"
            ),
        ),
        sa.ForeignKeyConstraint(
            ["programimageid"],
            ["smartcrop_programimage.id"],
            name=op.f(
                "fk_smartcrop_cropsuggestion_programimageid_smartcrop_programimage"
            ),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_smartcrop_cropsuggestion")),
        sa.UniqueConstraint(
            "programimageid",
            "aspectratioid",
            name=op.f("uq_smartcrop_cropsuggestion_programimageid_aspectratioid"),
        ),
    )
    op.create_table(
        "smartcrop_imagefetch",
        sa.Column("programimageid", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("httpstatus", sa.SmallInteger(), nullable=True),
        sa.Column("contenttype", sa.String(length=128), nullable=True),
        sa.Column("filesize", sa.BigInteger(), nullable=True),
        sa.Column("imagewidth", sa.Integer(), nullable=True),
        sa.Column("imageheight", sa.Integer(), nullable=True),
        sa.Column(
            "attempts", sa.Integer(), server_default=sa.text("1"), nullable=False
        ),
        sa.Column(
            "fetchedat",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status = 'ok' OR reason IS NOT NULL",
            name=op.f("ck_smartcrop_imagefetch_failed_reason"),
        ),
        sa.CheckConstraint(
            "status IN ('ok', 'failed')", name=op.f("ck_smartcrop_imagefetch_status")
        ),
        sa.ForeignKeyConstraint(
            ["programimageid"],
            ["smartcrop_programimage.id"],
            name=op.f("fk_smartcrop_imagefetch_programimageid_smartcrop_programimage"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("programimageid", name=op.f("pk_smartcrop_imagefetch")),
    )


def downgrade() -> None:
    op.drop_table("smartcrop_imagefetch")
    op.drop_table("smartcrop_cropsuggestion")
