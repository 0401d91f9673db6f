"""Users, roles, login attempts, revoked tokens, QA rules and the app settings."""

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
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from smartcrop.db.models.base import Base, now_column
from smartcrop.workflow.states import OPERATOR_QUEUE, REJECTED

# smartcrop_role.status: a role is active or (softly) deleted. Not a work-item state.
ROLE_DELETED = 0
ROLE_ACTIVE = 1


class Role(Base):
    __tablename__ = "smartcrop_role"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rolename: Mapped[str] = mapped_column(String(64))
    # ROLE_ACTIVE or ROLE_DELETED; built-in roles (admin, operator, qa) cannot be
    # removed.
    status: Mapped[int] = mapped_column(
        SmallInteger, server_default=text(str(ROLE_ACTIVE))
    )
    isbuiltin: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    createdat: Mapped[datetime] = now_column()
    __table_args__ = (
        CheckConstraint(f"status IN ({ROLE_DELETED}, {ROLE_ACTIVE})", "status"),
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
    createdat: Mapped[datetime] = now_column()
    updatedat: Mapped[datetime] = now_column()
    __table_args__ = (
        Index("uq_smartcrop_user_lower_emailid", func.lower(emailid), unique=True),
    )


class LoginAttempt(Base):
    """Failed logins, per account or address, for throttling across API processes."""

    __tablename__ = "smartcrop_login_attempt"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    subject: Mapped[str] = mapped_column(String(300))
    attemptedat: Mapped[datetime] = now_column()
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
    revokedat: Mapped[datetime] = now_column()
    __table_args__ = (Index("ix_smartcrop_revokedtoken_expiresat", expiresat),)


class Rule(Base):
    __tablename__ = "smartcrop_rule"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[int] = mapped_column(SmallInteger)
    percentage: Mapped[int] = mapped_column(SmallInteger)
    isactive: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    createdby: Mapped[int | None] = mapped_column(ForeignKey("smartcrop_user.id"))
    createdat: Mapped[datetime] = now_column()
    updatedat: Mapped[datetime] = now_column()
    __table_args__ = (
        # The work-item status the rule is about (QA_QUEUE: the share sent to review).
        CheckConstraint(f"status BETWEEN {OPERATOR_QUEUE} AND {REJECTED}", "status"),
        CheckConstraint("percentage BETWEEN 0 AND 100", "percentage"),
    )


class AppSettings(Base):
    """Run-time switches an admin flips from the API (one row, id 1)."""

    __tablename__ = "smartcrop_settings"
    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    qcdisabled: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    updatedby: Mapped[int | None] = mapped_column(ForeignKey("smartcrop_user.id"))
    updatedat: Mapped[datetime] = now_column()
    __table_args__ = (CheckConstraint("id = 1", "single_row"),)
