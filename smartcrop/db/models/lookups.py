"""Lookup tables, seeded by the first migration (contract section 3)."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    SmallInteger,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from smartcrop.db.models.base import Base


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
