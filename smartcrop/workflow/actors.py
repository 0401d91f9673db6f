"""Who a workflow request acts for: the caller, or (for an admin) the user named."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from smartcrop.errors import NotFound
from smartcrop.workflow.states import OPERATOR_QUEUE, QA_QUEUE

ADMIN_ROLE = "admin"

# Which stage's rows a role works on; admin works on both.
STAGES_BY_ROLE: dict[str, tuple[int, ...]] = {
    "operator": (OPERATOR_QUEUE,),
    "qa": (QA_QUEUE,),
    ADMIN_ROLE: (OPERATOR_QUEUE, QA_QUEUE),
}


def require_active_user(session: Session, user_id: int) -> None:
    """Refuse (404) acting for a user who does not exist or is inactive."""
    found = session.scalar(
        text("SELECT 1 FROM smartcrop_user WHERE id = :id AND isactive"),
        {"id": user_id},
    )
    if found is None:
        raise NotFound(f"there is no active user {user_id}")


def stages_of(role: str) -> tuple[int, ...]:
    return STAGES_BY_ROLE.get(role, ())
