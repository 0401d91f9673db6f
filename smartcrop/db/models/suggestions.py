"""Crop suggestions and image fetches (migration 0003)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from smartcrop.db.models.base import Base


class CropSuggestion(Base):
    """The suggested crop box of one source image at one aspect ratio."""

    __tablename__ = "smartcrop_cropsuggestion"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    programimageid: Mapped[int] = mapped_column(
        ForeignKey("smartcrop_programimage.id", ondelete="CASCADE")
    )
    aspectratioid: Mapped[int] = mapped_column(
        ForeignKey("smartcrop_aspectratio_lookup.id")
    )
    x: Mapped[int] = mapped_column(Integer)
    y: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(16))
    createdat: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    __table_args__ = (
        UniqueConstraint("programimageid", "aspectratioid"),
        CheckConstraint("x >= 0 AND y >= 0", "origin"),
        CheckConstraint("width > 0 AND height > 0", "size"),
        CheckConstraint("method IN ('face', 'saliency', 'centre')", "method"),
        CheckConstraint("score >= 0 AND score <= 1", "score"),
    )


class ImageFetch(Base):
    """The last attempt to fetch a source image for analysis, and its outcome.

    ``status`` is ``ok`` (suggestions stored) or ``failed`` (``reason`` says why: not
    found, not an image, too large, too slow...). ``imagewidth``/``imageheight`` are
    the image's real size, which may differ from what the manifest declared.
    """

    __tablename__ = "smartcrop_imagefetch"
    programimageid: Mapped[int] = mapped_column(
        ForeignKey("smartcrop_programimage.id", ondelete="CASCADE"),
        primary_key=True,
    )
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    httpstatus: Mapped[int | None] = mapped_column(SmallInteger)
    contenttype: Mapped[str | None] = mapped_column(String(128))
    filesize: Mapped[int | None] = mapped_column(BigInteger)
    imagewidth: Mapped[int | None] = mapped_column(Integer)
    imageheight: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    fetchedat: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    __table_args__ = (
        CheckConstraint("status IN ('ok', 'failed')", "status"),
        CheckConstraint("status = 'ok' OR reason IS NOT NULL", "failed_reason"),
    )
