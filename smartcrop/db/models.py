"""Typed SQLAlchemy models of the SmartCrop schema.

Column names follow the legacy database the downstream readers know (lower case, no
underscores, the programme id in ``link_object_id``). The migrations in
``smartcrop/migrations`` create this schema; a test checks that they agree.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Deterministic constraint names, so migrations can drop what they created.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _now() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


# --- lookups (seeded by the first migration, contract section 3) -----------------


class ImageTypeLookup(Base):
    __tablename__ = "smartcrop_imagetype_lookup"
    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    title: Mapped[str] = mapped_column(String(64), unique=True)


class ImageLanguageLookup(Base):
    __tablename__ = "smartcrop_imagelanguage_lookup"
    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    title: Mapped[str] = mapped_column(String(64), unique=True)


class RejectReasonLookup(Base):
    __tablename__ = "smartcrop_rejectreason_lookup"
    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    reason: Mapped[str] = mapped_column(String(128), unique=True)


class AspectRatioLookup(Base):
    __tablename__ = "smartcrop_aspectratio_lookup"
    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    title: Mapped[str] = mapped_column(String(16), unique=True)
    ratiowidth: Mapped[int] = mapped_column(SmallInteger)
    ratioheight: Mapped[int] = mapped_column(SmallInteger)
    __table_args__ = (CheckConstraint("ratiowidth > 0 AND ratioheight > 0", "ratio"),)


# --- identity and administration ------------------------------------------------


class Role(Base):
    __tablename__ = "smartcrop_role"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rolename: Mapped[str] = mapped_column(String(64))
    # 1 active, 0 deleted; built-in roles (admin, operator, qa) cannot be removed.
    status: Mapped[int] = mapped_column(SmallInteger, server_default=text("1"))
    isbuiltin: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    createdat: Mapped[datetime] = _now()
    __table_args__ = (
        CheckConstraint("status IN (0, 1)", "status"),
        Index("uq_smartcrop_role_lower_rolename", func.lower(rolename), unique=True),
    )


class User(Base):
    __tablename__ = "smartcrop_user"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(128))
    emailid: Mapped[str] = mapped_column(String(254))
    passwordhash: Mapped[str] = mapped_column(Text)
    roleid: Mapped[int] = mapped_column(ForeignKey("smartcrop_role.id"))
    isactive: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    # Carried in every token; bumped on password change or deactivation so that
    # tokens issued before stop working at once.
    tokenversion: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    createdat: Mapped[datetime] = _now()
    updatedat: Mapped[datetime] = _now()
    __table_args__ = (
        Index("uq_smartcrop_user_lower_emailid", func.lower(emailid), unique=True),
    )


class LoginAttempt(Base):
    """Failed logins, per account or address, for throttling across API processes."""

    __tablename__ = "smartcrop_login_attempt"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    subject: Mapped[str] = mapped_column(String(300))
    attemptedat: Mapped[datetime] = _now()
    __table_args__ = (
        Index("ix_smartcrop_login_attempt_subject_at", subject, attemptedat),
    )


class RevokedToken(Base):
    """Tokens ended before their expiry (POST /user/Logout), kept until then.

    In the database so that every API process refuses them at once; rows past their
    expiry are of no use (the token is refused anyway) and the housekeeping schedule
    removes them.
    """

    __tablename__ = "smartcrop_revokedtoken"
    tokenid: Mapped[str] = mapped_column(String(64), primary_key=True)
    userid: Mapped[int] = mapped_column(
        Integer, ForeignKey("smartcrop_user.id", ondelete="CASCADE")
    )
    expiresat: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revokedat: Mapped[datetime] = _now()
    __table_args__ = (Index("ix_smartcrop_revokedtoken_expiresat", expiresat),)


class Rule(Base):
    __tablename__ = "smartcrop_rule"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[int] = mapped_column(SmallInteger)
    percentage: Mapped[int] = mapped_column(SmallInteger)
    isactive: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    createdby: Mapped[int | None] = mapped_column(ForeignKey("smartcrop_user.id"))
    createdat: Mapped[datetime] = _now()
    updatedat: Mapped[datetime] = _now()
    __table_args__ = (
        CheckConstraint("status BETWEEN 1 AND 4", "status"),
        CheckConstraint("percentage BETWEEN 0 AND 100", "percentage"),
    )


class AppSettings(Base):
    """Run-time switches an admin flips from the API (one row, id 1)."""

    __tablename__ = "smartcrop_settings"
    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    qcdisabled: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    updatedby: Mapped[int | None] = mapped_column(ForeignKey("smartcrop_user.id"))
    updatedat: Mapped[datetime] = _now()
    __table_args__ = (CheckConstraint("id = 1", "single_row"),)


# --- ingestion --------------------------------------------------------------------


class UploadFile(Base):
    """One provider file seen by a watcher: ingested once, whatever its name."""

    __tablename__ = "smartcrop_upload_files"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    filename: Mapped[str] = mapped_column(String(512))
    source: Mapped[str] = mapped_column(String(16))
    sourcepath: Mapped[str] = mapped_column(Text)
    filesize: Mapped[int] = mapped_column(BigInteger)
    sourcemodifiedat: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    checksum: Mapped[str] = mapped_column(String(64))
    partitionkey: Mapped[str | None] = mapped_column(String(256))
    providername: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), server_default=text("'pending'"))
    error: Mapped[str | None] = mapped_column(Text)
    totalrows: Mapped[int | None] = mapped_column(Integer)
    ingesteditems: Mapped[int | None] = mapped_column(Integer)
    rejectedrows: Mapped[int | None] = mapped_column(Integer)
    duplicates: Mapped[int | None] = mapped_column(Integer)
    createdat: Mapped[datetime] = _now()
    updatedat: Mapped[datetime] = _now()
    __table_args__ = (
        CheckConstraint("source IN ('local', 's3', 'sftp', 'api', 'cli')", "source"),
        CheckConstraint(
            "status IN ('pending', 'ingesting', 'ingested', 'failed', 'skipped')",
            "status",
        ),
        CheckConstraint("filesize >= 0", "filesize"),
        # The same content is ingested once, even renamed or re-sent elsewhere; a
        # failed file may be fixed and sent again, so only live rows are unique.
        Index(
            "uq_smartcrop_upload_files_checksum_live",
            checksum,
            unique=True,
            postgresql_where=text("status IN ('pending', 'ingesting', 'ingested')"),
        ),
        Index("ix_smartcrop_upload_files_partitionkey", partitionkey),
    )


class InputFile(Base):
    """Every parsed manifest row, as the provider sent it (rejected rows included)."""

    __tablename__ = "smartcrop_inputfiles"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    uploadfileid: Mapped[int] = mapped_column(
        ForeignKey("smartcrop_upload_files.id", ondelete="CASCADE")
    )
    rownumber: Mapped[int] = mapped_column(Integer)
    providername: Mapped[str] = mapped_column(String(64))
    link_object_id: Mapped[str | None] = mapped_column(String(64))
    programtitle: Mapped[str | None] = mapped_column(Text)
    episodetitle: Mapped[str | None] = mapped_column(Text)
    season: Mapped[str | None] = mapped_column(String(32))
    episode: Mapped[str | None] = mapped_column(String(32))
    imageurl: Mapped[str | None] = mapped_column(Text)
    imagetype: Mapped[str | None] = mapped_column(Text)
    imagetypeid: Mapped[int | None] = mapped_column(SmallInteger)
    language: Mapped[str | None] = mapped_column(Text)
    languageid: Mapped[int | None] = mapped_column(SmallInteger)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    rights: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    sourceref: Mapped[str | None] = mapped_column(Text)
    rejectreason: Mapped[str | None] = mapped_column(Text)
    isduplicate: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    programimageid: Mapped[int | None] = mapped_column(BigInteger)
    createdat: Mapped[datetime] = _now()
    __table_args__ = (UniqueConstraint("uploadfileid", "rownumber"),)


# --- the work items ----------------------------------------------------------------


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
    status: Mapped[int] = mapped_column(SmallInteger, server_default=text("1"))
    currentstate: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
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
    createdat: Mapped[datetime] = _now()
    updatedat: Mapped[datetime] = _now()
    __table_args__ = (
        UniqueConstraint("link_object_id", "imageurl"),
        CheckConstraint("status IN (1, 2, 3, 4)", "status"),
        CheckConstraint("currentstate IN (0, 1)", "currentstate"),
        # A locked row always names its owner, a free one never does.
        CheckConstraint(
            "(currentstate = 1) = (lockedby IS NOT NULL AND lockedat IS NOT NULL)",
            "lock_owner",
        ),
        CheckConstraint("status <> 4 OR rejectreasonid IS NOT NULL", "reject_reason"),
        CheckConstraint("outputfilename IS NULL OR status = 3", "exported_completed"),
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
            postgresql_where=text("status = 1 AND currentstate = 0"),
        ),
        Index(
            "ix_smartcrop_programimage_qa_queue",
            "createdat",
            "link_object_id",
            postgresql_where=text("status = 2 AND currentstate = 0"),
        ),
        Index(
            "ix_smartcrop_programimage_locks",
            "lockedby",
            "lockedat",
            postgresql_where=text("currentstate = 1"),
        ),
        # The nightly manifest: completed rows not yet shipped.
        Index(
            "ix_smartcrop_programimage_export_queue",
            "link_object_id",
            "id",
            postgresql_where=text("status = 3 AND outputfilename IS NULL"),
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
    createdat: Mapped[datetime] = _now()
    updatedby: Mapped[int | None] = mapped_column(ForeignKey("smartcrop_user.id"))
    updatedat: Mapped[datetime] = _now()
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
    createdat: Mapped[datetime] = _now()
    __table_args__ = (
        Index("ix_smartcrop_programimage_audit_createdat", "createdat"),
        Index("ix_smartcrop_programimage_audit_programimageid", "programimageid"),
    )


# --- counts kept with every write (triggers of migration 0004) ----------------------


class WorkItemCount(Base):
    """Work items per provider and state, split over slots (summed when read)."""

    __tablename__ = "smartcrop_workitem_counts"
    providername: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    currentstate: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    exported: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    slot: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    items: Mapped[int] = mapped_column(BigInteger)


class ReportDay(Base):
    """Renditions per UTC day of their last save and provider."""

    __tablename__ = "smartcrop_report_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    providername: Mapped[str] = mapped_column(String(64), primary_key=True)
    renditions: Mapped[int] = mapped_column(BigInteger)


class ReportUserDay(Base):
    """Renditions per user who cropped or reviewed them, UTC day and provider."""

    __tablename__ = "smartcrop_report_user_days"
    userid: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    providername: Mapped[str] = mapped_column(String(64), primary_key=True)
    renditions: Mapped[int] = mapped_column(BigInteger)


# Tables of other modules on this Base, so Base.metadata describes the whole schema.
from smartcrop.db import suggestion_models  # noqa: E402, F401
