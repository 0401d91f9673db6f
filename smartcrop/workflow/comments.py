"""The free-text comment a QA user gives with a send-back or a reject.

It is stored with the move in the audit trail (the audit table's ``comment``), shown to
the operator in the Programme (``LastComment``) and in the History, and neutralised
like any text in the CSV dumps. Only moves that need a reason take one.
"""

from __future__ import annotations

from smartcrop.errors import InvalidInput

MAX_COMMENT_LENGTH = 1000


def clean_comment(comment: str | None) -> str | None:
    """The comment trimmed, None when empty; 400 when too long or not storable."""
    if comment is None:
        return None
    comment = comment.strip()
    if "\x00" in comment:
        raise InvalidInput("a comment must not contain a NUL character")
    if len(comment) > MAX_COMMENT_LENGTH:
        raise InvalidInput(
            f"the comment is {len(comment)} characters long: a comment has at most "
            f"{MAX_COMMENT_LENGTH}"
        )
    return comment or None
