"""QA routing (contract section 2): where a programme goes when the operator is done.

- QA disabled: always 3 (completed).
- QA enabled and an active rule with Status = 2: that rule's Percentage % of programmes
  go to QA (2), chosen by a stable hash of the ProgramId, so the same programme always
  takes the same route, in every process and on every run.
- QA enabled and no such rule: always 2.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcrop.db.models import AppSettings, Rule
from smartcrop.workflow.states import COMPLETED, QA_QUEUE

# The route's name for the QA queue (tests import it from here).
QA = QA_QUEUE


def bucket_of(program_id: str) -> int:
    """0..99 from SHA-256 of the id. Never hash(): it is salted per process."""
    digest = hashlib.sha256(program_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % 100


def route_for(program_id: str, qc_disabled: bool, rule_percentage: int | None) -> int:
    """The status (2 QA or 3 completed) a programme leaving the operator goes to."""
    if qc_disabled:
        return COMPLETED
    if rule_percentage is None:
        return QA
    return QA if bucket_of(program_id) < rule_percentage else COMPLETED


def active_qa_percentage(session: Session) -> int | None:
    """The Percentage of the newest active rule with Status = 2, if there is one."""
    return session.scalar(
        select(Rule.percentage)
        .where(Rule.isactive.is_(True), Rule.status == QA)
        .order_by(Rule.createdat.desc(), Rule.id.desc())
        .limit(1)
    )


def qa_route(session: Session, program_id: str) -> int:
    """Route one programme with the QA toggle and rules as they are now."""
    disabled = session.scalar(select(AppSettings.qcdisabled).where(AppSettings.id == 1))
    return route_for(program_id, bool(disabled), active_qa_percentage(session))
