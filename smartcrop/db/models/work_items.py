"""The work items, their renditions and the audit trail of every move."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from smartcrop.db.models.base import Base, now_column
from smartcrop.workflow.states import (
    COMPLETED,
    FREE,
    LOCKED,
    OPERATOR_QUEUE,
    QA_QUEUE,
    REJECTED,
    STATUSES,
)

# The schema's checks and partial-index predicates spell the states as numbers; they
# are rendered from workflow/states.py so the two cannot drift. The rendered text is
# what the migrations created (the schema test compares them), and the queries that
# rely on a partial index write the same literal numbers, which the planner must see
# at plan time to use it.
_STATUSES = ", ".join(str(status) for status in STATUSES)


class ProgramImage(Base):
    """One source image of a programme: the unit of operator and QA work."""

    __tablename__ = "smartcrop_programimage"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    link_object_id: Mapped[str] = mapped_column(String(64))
    providername: Mapped[str] = mapped_column(String(64))
    programtitle: Mapped[str | None] = mapped_column(Text)
    episodetitle: Mapped[str | None] = mapped_column(Text)
    season: Mapped[str | None] = mapped_column(String(32))
    episode: Mapped[str | None] = mapped_column(String(32))
    imageurl: Mapped[str] = mapped_column(Text)
    imagetypeid: Mapped[int | None] = mapped_column(
        ForeignKey("smartcrop_imagetype_lookup.id")
    )
    imagetype: Mapped[str | None] = mapped_column(Text)
    languageid: Mapped[int | None] = mapped_column(
        ForeignKey("smartcrop_imagelanguage_lookup.id")
    )
    language: Mapped[str | None] = mapped_column(Text)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    rights: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[int] = mapped_column(
        SmallInteger, server_default=text(str(OPERATOR_QUEUE))
    )
    currentstate: Mapped[int] = mapped_column(
        SmallInteger, server_default=text(str(FREE))
    )
    lockedby: Mapped[int | None] = mapped_column(ForeignKey("smartcrop_user.id"))
    lockedat: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rejectreasonid: Mapped[int | None] = mapped_column(
        ForeignKey("smartcrop_rejectreason_lookup.id")
    )
    uploadfileid: Mapped[int | None] = mapped_column(
        ForeignKey("smartcrop_upload_files.id", ondelete="SET NULL")
    )
    croppedby: Mapped[int | None] = mapped_column(ForeignKey("smartcrop_user.id"))
    croppedat: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewedby: Mapped[int | None] = mapped_column(ForeignKey("smartcrop_user.id"))
    reviewedat: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completedby: Mapped[int | None] = mapped_column(ForeignKey("smartcrop_user.id"))
    completedat: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outputfilename: Mapped[str | None] = mapped_column(String(256))
    exportedat: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    createdat: Mapped[datetime] = now_column()
    updatedat: Mapped[datetime] = now_column()
    __table_args__ = (
        UniqueConstraint("link_object_id", "imageurl"),
        CheckConstraint(f"status IN ({_STATUSES})", "status"),
        CheckConstraint(f"currentstate IN ({FREE}, {LOCKED})", "currentstate"),
        # A locked row always names its owner, a free one never does.
        CheckConstraint(
            f"(currentstate = {LOCKED})"
            " = (lockedby IS NOT NULL AND lockedat IS NOT NULL)",
            "lock_owner",
        ),
        CheckConstraint(
            f"status <> {REJECTED} OR rejectreasonid IS NOT NULL", "reject_reason"
        ),
        CheckConstraint(
            f"outputfilename IS NULL OR status = {COMPLETED}", "exported_completed"
        ),
        CheckConstraint(
            "(width IS NULL OR width > 0) AND (height IS NULL OR height > 0)", "size"
        ),
        # The operator queue: free rows, oldest first per provider. Claims match the
        # provider case-insensitively, so the index holds the lower() form.
        Index(
            "ix_smartcrop_programimage_operator_queue",
            func.lower(providername),
            "createdat",
            "link_object_id",
            postgresql_where=text(
                f"status = {OPERATOR_QUEUE} AND currentstate = {FREE}"
            ),
        ),
        Index(
            "ix_smartcrop_programimage_qa_queue",
            "createdat",
            "link_object_id",
            postgresql_where=text(f"status = {QA_QUEUE} AND currentstate = {FREE}"),
        ),
        Index(
            "ix_smartcrop_programimage_locks",
            "lockedby",
            "lockedat",
            postgresql_where=text(f"currentstate = {LOCKED}"),
        ),
        # The nightly manifest: completed rows not yet shipped.
        Index(
            "ix_smartcrop_programimage_export_queue",
            "link_object_id",
            "id",
            postgresql_where=text(f"status = {COMPLETED} AND outputfilename IS NULL"),
        ),
        Index("ix_smartcrop_programimage_link_object_id", "link_object_id"),
        # Names already used; the rows still to export are in the queue index.
        Index(
            "ix_smartcrop_programimage_outputfilename",
            "outputfilename",
            postgresql_where=text("outputfilename IS NOT NULL"),
        ),
        # The report filtered by one user walks that user's work items.
        Index(
            "ix_smartcrop_programimage_croppedby",
            "croppedby",
            postgresql_where=text("croppedby IS NOT NULL"),
        ),
        Index(
            "ix_smartcrop_programimage_reviewedby",
            "reviewedby",
            postgresql_where=text("reviewedby IS NOT NULL"),
        ),
        # Sent-back rows waiting in the operator queue, by the operator who last
        # finished them: her claim takes them first (send-back affinity).
        Index(
            "ix_smartcrop_programimage_sent_back",
            "croppedby",
            "reviewedat",
            postgresql_where=text(
                "status = 1 AND currentstate = 0 AND reviewedat IS NOT NULL"
            ),
        ),
    )


class AspectRatioImage(Base):
    """One rendition: a crop of a source image at one aspect ratio."""

    __tablename__ = "smartcrop_aspectratioimages"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    programimageid: Mapped[int] = mapped_column(
        ForeignKey("smartcrop_programimage.id", ondelete="CASCADE")
    )
    link_object_id: Mapped[str] = mapped_column(String(64))
    aspectratioid: Mapped[int] = mapped_column(
        ForeignKey("smartcrop_aspectratio_lookup.id")
    )
    cropx: Mapped[int] = mapped_column(Integer)
    cropy: Mapped[int] = mapped_column(Integer)
    cropwidth: Mapped[int] = mapped_column(Integer)
    cropheight: Mapped[int] = mapped_column(Integer)
    storagekey: Mapped[str] = mapped_column(Text)
    imageurl: Mapped[str] = mapped_column(Text)
    filesize: Mapped[int | None] = mapped_column(Integer)
    createdby: Mapped[int | None] = mapped_column(ForeignKey("smartcrop_user.id"))
    createdat: Mapped[datetime] = now_column()
    updatedby: Mapped[int | None] = mapped_column(ForeignKey("smartcrop_user.id"))
    updatedat: Mapped[datetime] = now_column()
    __table_args__ = (
        UniqueConstraint("link_object_id", "aspectratioid", "programimageid"),
        CheckConstraint("cropx >= 0 AND cropy >= 0", "origin"),
        CheckConstraint("cropwidth > 0 AND cropheight > 0", "size"),
        Index("ix_smartcrop_aspectratioimages_programimageid", "programimageid"),
        Index("ix_smartcrop_aspectratioimages_updatedat", "updatedat"),
    )


class ProgramImageAudit(Base):
    """Every state move of a work item. Append-only: nothing deletes these rows."""

    __tablename__ = "smartcrop_programimage_audit"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # No foreign key: the audit outlives the rows it speaks of.
    programimageid: Mapped[int] = mapped_column(BigInteger)
    link_object_id: Mapped[str] = mapped_column(String(64))
    userid: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    fromstatus: Mapped[int | None] = mapped_column(SmallInteger)
    fromstate: Mapped[int | None] = mapped_column(SmallInteger)
    tostatus: Mapped[int] = mapped_column(SmallInteger)
    tostate: Mapped[int] = mapped_column(SmallInteger)
    rejectreasonid: Mapped[int | None] = mapped_column(SmallInteger)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # QA's (or a rejecting operator's) free text with a move that needs a reason.
    comment: Mapped[str | None] = mapped_column(Text)
    createdat: Mapped[datetime] = now_column()
    __table_args__ = (
        CheckConstraint("char_length(comment) <= 1000", "comment_length"),
        Index("ix_smartcrop_programimage_audit_createdat", "createdat"),
        # A work item's moves in order, with what TeamStats reads (migration 0008).
        Index(
            "ix_smartcrop_programimage_audit_image_moves",
            "programimageid",
            "id",
            postgresql_include=["action", "createdat"],
        ),
    )
