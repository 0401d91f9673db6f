"""Claims: an operator or a QA user takes a whole programme from a queue.

Correct under many concurrent claimers, at programme granularity. Row locks alone
are not enough: two transactions could lock two different rows of one programme. So a
claim takes a transaction-scoped advisory lock on the programme id
(``pg_try_advisory_xact_lock``: a programme another claim is taking is skipped, not
waited for), then row-locks and moves all that programme's free rows, in one statement
that also writes the audit rows. The candidates are read oldest first from the queue's
partial index, in a subquery with a LIMIT so that the advisory lock is tried row by row
in queue order and never on programmes the claim will not take.

A programme that has rows held by another user is never offered, so two users never
work on the same programme at once. Expired locks are released (in SQL) at the start
of every claim, so they count as free.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from smartcrop.errors import Conflict, InvalidInput, NotFound
from smartcrop.workflow.locks import release_expired_locks
from smartcrop.workflow.sources import fill_missing_sizes, read_image_size
from smartcrop.workflow.states import CLAIM, QA_CLAIM, apply_move

# Advisory-lock namespace of claims (first key of the two-key form), so that the
# programme hashes never collide with advisory locks taken for anything else.
CLAIM_LOCK_NAMESPACE = 0x5C0C
# How many queue rows a claim looks through for a programme nobody else is taking.
CANDIDATE_WINDOW = 256
# Snapshot races (a programme taken and committed between our read and our lock) end
# a claim attempt empty-handed; a few quick retries see the committed state.
MAX_ATTEMPTS = 8
RETRY_DELAY_SECONDS = 0.01


@dataclass(frozen=True)
class Claimed:
    """The programme a user now holds, and the work items of it they hold."""

    program_id: str
    image_ids: list[int]


def _queue_filter(alias: str, status: int, with_provider: bool) -> str:
    # Free rows of the queue whose programme has no row held by anyone (the caller's
    # own held programmes are resumed before we get here).
    provider = f"{alias}.providername = :provider AND " if with_provider else ""
    same_provider = (
        f"AND h.providername = {alias}.providername" if with_provider else ""
    )
    return f"""{provider}{alias}.status = {status} AND {alias}.currentstate = 0
        AND NOT EXISTS (
            SELECT 1 FROM smartcrop_programimage h
            WHERE h.link_object_id = {alias}.link_object_id {same_provider}
              AND h.status = {status} AND h.currentstate = 1)"""  # noqa: S608


def _pick_oldest(status: int, with_provider: bool) -> str:
    """CTEs ``pick`` (the programme) and ``old`` (its free rows, row-locked)."""
    provider_of_rows = "AND p.providername = :provider" if with_provider else ""
    return f"""pick AS MATERIALIZED (
        SELECT c.link_object_id FROM (
            SELECT q.link_object_id FROM smartcrop_programimage q
            WHERE {_queue_filter("q", status, with_provider)}
            ORDER BY q.createdat, q.link_object_id
            LIMIT :window
        ) c
        WHERE pg_try_advisory_xact_lock(:ns, hashtext(c.link_object_id))
        LIMIT 1
    ),
    old AS (
        SELECT p.id, p.lockedby FROM smartcrop_programimage p
        JOIN pick ON pick.link_object_id = p.link_object_id
        WHERE p.status = {status} AND p.currentstate = 0 {provider_of_rows}
        ORDER BY p.id
        FOR UPDATE OF p
    )"""  # noqa: S608 - built from this module's constants only


_OPERATOR_PICK = _pick_oldest(1, with_provider=True)
_QA_PICK = _pick_oldest(2, with_provider=False)

_QA_PROGRAMME_ROWS = """old AS (
    SELECT id, lockedby FROM smartcrop_programimage
    WHERE link_object_id = :program_id AND status = 2 AND currentstate = 0
    ORDER BY id
    FOR UPDATE
)"""


def _held(
    session: Session, user_id: int, status: int, program_id: str | None = None
) -> list[int]:
    return list(
        session.scalars(
            text(
                "SELECT id FROM smartcrop_programimage"
                " WHERE lockedby = :user AND currentstate = 1 AND status = :status"
                " AND link_object_id = :program_id ORDER BY id"
            ),
            {"user": user_id, "status": status, "program_id": program_id},
        )
    )


def _resume(
    session: Session, user_id: int, status: int, provider: str | None
) -> Claimed | None:
    """The programme the user already holds in this queue, if any.

    Claiming is idempotent per user: a reload of the page gives the operator the same
    programme back instead of locking a second one.
    """
    program_id = session.scalar(
        text(
            "SELECT link_object_id FROM smartcrop_programimage"
            " WHERE lockedby = :user AND currentstate = 1 AND status = :status"
            " AND (CAST(:provider AS text) IS NULL OR providername = :provider)"
            " ORDER BY lockedat, createdat, link_object_id LIMIT 1"
        ),
        {"user": user_id, "status": status, "provider": provider},
    )
    if program_id is None:
        return None
    return Claimed(program_id, _held(session, user_id, status, program_id))


def _claim_oldest(
    session: Session,
    selection: str,
    params: dict[str, object],
    status: int,
    *,
    owner_id: int,
    actor_id: int,
) -> Claimed | None:
    move = CLAIM if status == 1 else QA_CLAIM
    values = {**params, "window": CANDIDATE_WINDOW, "ns": CLAIM_LOCK_NAMESPACE}
    queue = _queue_filter("q", status, with_provider="provider" in params)
    waiting = text(
        f"SELECT EXISTS (SELECT 1 FROM smartcrop_programimage q WHERE {queue})"  # noqa: S608
    )
    for attempt in range(MAX_ATTEMPTS):
        moved = apply_move(
            session, move, selection, values, owner_id=owner_id, actor_id=actor_id
        )
        if moved:
            program_id = session.scalar(
                text(
                    "SELECT link_object_id FROM smartcrop_programimage WHERE id = :id"
                ),
                {"id": moved[0]},
            )
            return Claimed(program_id, moved)
        if not session.scalar(waiting, params):
            return None
        time.sleep(RETRY_DELAY_SECONDS * (2**attempt))
    # Every waiting programme is being taken by someone else right now.
    return None


def claim_for_operator(
    session: Session,
    provider_name: str,
    user_id: int,
    *,
    actor_id: int | None = None,
    lock_timeout_minutes: int,
) -> Claimed | None:
    """(1,0) -> (1,1): the oldest programme of the provider's queue, all its free rows.

    Returns None when the queue is empty. Does not commit.
    """
    provider_name = (provider_name or "").strip()
    if not provider_name:
        raise InvalidInput("providerName is required")
    release_expired_locks(session, lock_timeout_minutes)
    held = _resume(session, user_id, 1, provider_name)
    if held is not None:
        return held
    return _claim_oldest(
        session,
        _OPERATOR_PICK,
        {"provider": provider_name},
        1,
        owner_id=user_id,
        actor_id=actor_id if actor_id is not None else user_id,
    )


def claim_for_qa(
    session: Session,
    program_id: str | None,
    user_id: int,
    *,
    actor_id: int | None = None,
    lock_timeout_minutes: int,
) -> Claimed | None:
    """(2,0) -> (2,1): that programme's QA rows, or the oldest programme in QA.

    Returns None when no programme id was given and the QA queue is empty. Does not
    commit.
    """
    actor = actor_id if actor_id is not None else user_id
    # Serialise with the QA toggle (identity.set_qc_disabled locks this row FOR
    # UPDATE): QA is never switched off between its check and a claim landing.
    session.execute(text("SELECT 1 FROM smartcrop_settings WHERE id = 1 FOR SHARE"))
    release_expired_locks(session, lock_timeout_minutes)
    program_id = (program_id or "").strip() or None
    if program_id is None:
        held = _resume(session, user_id, 2, None)
        if held is not None:
            return held
        return _claim_oldest(session, _QA_PICK, {}, 2, owner_id=user_id, actor_id=actor)

    # One programme asked for by id: wait for (do not skip) a claim in progress on it.
    session.execute(
        text("SELECT pg_advisory_xact_lock(:ns, hashtext(:program_id))"),
        {"ns": CLAIM_LOCK_NAMESPACE, "program_id": program_id},
    )
    rows = session.execute(
        text(
            "SELECT status, currentstate, lockedby FROM smartcrop_programimage"
            " WHERE link_object_id = :program_id"
        ),
        {"program_id": program_id},
    ).all()
    if not rows:
        raise NotFound(f"there is no programme {program_id}")
    if any(s == 2 and c == 1 and who != user_id for s, c, who in rows):
        raise Conflict(f"programme {program_id} is being reviewed by another user")
    apply_move(
        session,
        QA_CLAIM,
        _QA_PROGRAMME_ROWS,
        {"program_id": program_id},
        owner_id=user_id,
        actor_id=actor,
    )
    held = _held(session, user_id, 2, program_id)
    if not held:
        raise Conflict(f"programme {program_id} has no images waiting for QA")
    return Claimed(program_id, held)


def claim_operator_programme(
    session: Session,
    provider_name: str,
    user_id: int,
    *,
    actor_id: int,
    lock_timeout_minutes: int,
    read_size: Callable[[str], tuple[int, int]] = read_image_size,
) -> Claimed | None:
    """GetImageInfo: claim, commit, then read the source sizes the rows lack.

    The claim is committed first so that no row or advisory lock is held while the
    source images are fetched, and so that it stands when a source cannot be read:
    the operator then holds the programme and can reject the broken image (the 400
    says which). Claiming again resumes the same programme and retries the read.
    """
    claimed = claim_for_operator(
        session,
        provider_name,
        user_id,
        actor_id=actor_id,
        lock_timeout_minutes=lock_timeout_minutes,
    )
    session.commit()
    if claimed is not None:
        fill_missing_sizes(session, claimed.image_ids, read_size=read_size)
    return claimed
