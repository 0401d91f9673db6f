"""A programme's history: every audit row of its images, in the order they were written.

Admin and QA users may read any programme's; an operator only that of a programme she
touched (an audit row names her, as the user or as the user an admin acted for).
Reading it claims nothing and moves nothing.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from smartcrop.errors import InvalidInput, NotFound, PermissionDenied
from smartcrop.workflow.actors import ADMIN_ROLE

# Roles that may read every programme's history.
READ_ALL_ROLES = frozenset({ADMIN_ROLE, "qa"})

_IMAGES = text(
    "SELECT id FROM smartcrop_programimage WHERE link_object_id = :program_id"
)

# By the images' ids (the audit table's index on them); in id order, which is the
# order the moves were written in (audit.insert_from).
_AUDIT = text("""
    SELECT au.id, au.createdat, au.programimageid, au.userid, u.username,
           au.action, au.fromstatus, au.fromstate, au.tostatus, au.tostate,
           au.rejectreasonid, r.reason, au.comment,
           CAST(au.details ->> 'for_user' AS integer) AS for_user
    FROM smartcrop_programimage_audit au
    LEFT JOIN smartcrop_user u ON u.id = au.userid
    LEFT JOIN smartcrop_rejectreason_lookup r ON r.id = au.rejectreasonid
    WHERE au.programimageid = ANY(:ids)
    ORDER BY au.id
    """)


def programme_history(
    session: Session, program_id: str, *, viewer_id: int, viewer_role: str
) -> dict[str, Any]:
    """``{"ProgramId", "Entries": [...]}``, oldest move first.

    404 for a programme with no work item; 403 for an operator (any role but admin
    and qa) whom no audit row of it names.
    """
    program_id = (program_id or "").strip()
    if not program_id:
        raise InvalidInput("programId is required")
    image_ids = list(session.scalars(_IMAGES, {"program_id": program_id}))
    if not image_ids:
        raise NotFound(f"there is no programme {program_id}")
    rows = session.execute(_AUDIT, {"ids": image_ids}).all()
    if viewer_role not in READ_ALL_ROLES and not any(
        viewer_id in (row.userid, row.for_user) for row in rows
    ):
        raise PermissionDenied(
            f"You may read the history of programme {program_id} only if you "
            "worked on it"
        )
    return {
        "ProgramId": program_id,
        "Entries": [
            {
                "AuditId": row.id,
                "At": row.createdat.astimezone(UTC).isoformat(),
                "ImageId": row.programimageid,
                "UserId": row.userid,
                "UserName": row.username,
                "ForUserId": row.for_user,
                "Action": row.action,
                "FromStatus": row.fromstatus,
                "FromState": row.fromstate,
                "ToStatus": row.tostatus,
                "ToState": row.tostate,
                "RejectReasonId": row.rejectreasonid,
                "RejectReason": row.reason,
                "Comment": row.comment,
            }
            for row in rows
        ],
    }
