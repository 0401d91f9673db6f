"""QA sampling rules: what share of finished work goes to review."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcrop.db.models import Rule
from smartcrop.errors import InvalidInput, NotFound
from smartcrop.workflow.states import STATUSES


def rule_view(rule: Rule) -> dict[str, Any]:
    return {
        "Id": rule.id,
        "Status": rule.status,
        "Percentage": rule.percentage,
        "IsActive": rule.isactive,
    }


def _check_rule(status: int | None, percentage: int | None) -> None:
    if status is not None and status not in STATUSES:
        raise InvalidInput("Status must be 1, 2, 3 or 4 (see the work-item states)")
    if percentage is not None and not 0 <= percentage <= 100:
        raise InvalidInput("Percentage must be between 0 and 100")


def list_rules(session: Session) -> list[dict[str, Any]]:
    rules = session.scalars(
        select(Rule).where(Rule.isactive.is_(True)).order_by(Rule.id)
    )
    return [rule_view(rule) for rule in rules]


def create_rule(
    session: Session, *, status: int, percentage: int, actor_id: int
) -> dict[str, Any]:
    _check_rule(status, percentage)
    rule = Rule(status=status, percentage=percentage, isactive=True, createdby=actor_id)
    session.add(rule)
    session.flush()
    return rule_view(rule)


def update_rule(
    session: Session,
    *,
    rule_id: int,
    status: int | None = None,
    percentage: int | None = None,
    is_active: bool | None = None,
) -> dict[str, Any]:
    _check_rule(status, percentage)
    rule = _rule(session, rule_id)
    if status is not None:
        rule.status = status
    if percentage is not None:
        rule.percentage = percentage
    if is_active is not None:
        rule.isactive = is_active
    rule.updatedat = func.now()
    session.flush()
    session.refresh(rule)
    return rule_view(rule)


def deactivate_rule(session: Session, rule_id: int) -> None:
    """Soft delete: the rule stays for the record but no longer routes anything."""
    rule = _rule(session, rule_id)
    rule.isactive = False
    rule.updatedat = func.now()
    session.flush()


def _rule(session: Session, rule_id: int) -> Rule:
    rule = session.scalar(select(Rule).where(Rule.id == rule_id).with_for_update())
    if rule is None:
        raise NotFound(f"there is no rule with id {rule_id}")
    return rule
