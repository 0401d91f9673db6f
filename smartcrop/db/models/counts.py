"""Counts kept with every write (triggers of migration 0004)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Integer,
    SmallInteger,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from smartcrop.db.models.base import Base


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
