"""Uploaded files and their landed rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from smartcrop.db.models.base import Base, now_column


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
    createdat: Mapped[datetime] = now_column()
    updatedat: Mapped[datetime] = now_column()
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
    createdat: Mapped[datetime] = now_column()
    __table_args__ = (UniqueConstraint("uploadfileid", "rownumber"),)
