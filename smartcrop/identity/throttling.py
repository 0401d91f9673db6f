"""Failed-login throttling, per account and per client address, across processes."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from smartcrop.db.models import LoginAttempt
from smartcrop.errors import TooManyRequests

# Throttling: failures per account and per client address within a sliding window.
# The address limit is higher because an office behind one NAT address shares it.
ACCOUNT_FAILURE_LIMIT = 5
ADDRESS_FAILURE_LIMIT = 20
FAILURE_WINDOW = timedelta(minutes=15)


def account_subject(email: str) -> str:
    return "email:" + email.strip().lower()[:290]


def address_subject(address: str) -> str:
    return "addr:" + address[:290]


class GuardedAttempt:
    """One guarded password check, throttled per subject, safe across processes.

    A provisional failure row is written and committed *before* counting, so that of
    many simultaneous attempts at most ``limit`` ever reach the password check (each
    one's count includes every row committed before its own). A refused (429) attempt
    removes its rows, so hammering a throttled account does not extend the lock-out.
    """

    def __init__(
        self,
        session: Session,
        limits: dict[str, int],
        window: timedelta,
        now: datetime | None,
    ) -> None:
        self.session = session
        self.limits = limits
        self.window = window
        self.now = now or datetime.now(UTC)
        self.row_ids: list[int] = []

    def begin(self) -> None:
        rows = [LoginAttempt(subject=s, attemptedat=self.now) for s in self.limits]
        self.session.add_all(rows)
        self.session.flush()
        self.row_ids = [row.id for row in rows]
        self.session.commit()
        since = self.now - self.window
        for subject, limit in self.limits.items():
            times = self.session.scalars(
                select(LoginAttempt.attemptedat)
                .where(
                    LoginAttempt.subject == subject,
                    LoginAttempt.attemptedat > since,
                    LoginAttempt.id.not_in(self.row_ids),
                )
                .order_by(LoginAttempt.attemptedat)
            ).all()
            if len(times) >= limit:
                self._forget_own_rows()
                self.session.commit()  # before the refusal rolls the request back
                # When enough of the oldest failures have left the window.
                free_at = times[len(times) - limit] + self.window
                minutes = max(1, math.ceil((free_at - self.now).total_seconds() / 60))
                raise TooManyRequests(
                    "Too many failed attempts for this account or address; "
                    f"try again in {minutes} minute{'s' if minutes != 1 else ''}"
                )

    def failed(self) -> None:
        # The provisional rows stay as the failure record; commit them before the
        # caller's refusal rolls the request back.
        self.session.commit()

    def succeeded(self, clear_subject: str) -> None:
        # Success clears the account's failures but not the address's: otherwise one
        # valid account would let an address keep guessing at others. No commit here:
        # the caller's transaction (and any row lock it holds) carries on.
        self._forget_own_rows()
        self.session.execute(
            delete(LoginAttempt).where(LoginAttempt.subject == clear_subject)
        )
        self._prune()

    def _forget_own_rows(self) -> None:
        self.session.execute(
            delete(LoginAttempt).where(LoginAttempt.id.in_(self.row_ids))
        )

    def _prune(self) -> None:
        # Old rows count for nothing; keep the table small.
        self.session.execute(
            delete(LoginAttempt).where(
                LoginAttempt.attemptedat < self.now - max(self.window, FAILURE_WINDOW)
            )
        )
