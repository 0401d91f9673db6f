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
work on the same programme at once. An expired lock holds nothing: its rows count as
free, and the claim statement itself takes them over, writing the ``expire`` audit row
before the claim's (``states.apply_move``'s ``take_over_after_minutes``), so no claim
is ever blocked by one and none pays for a separate release first. Expired locks of
programmes nobody claims are released by the ``release_expired_locks`` schedule
(``pipelines/maintenance.py``), so dashboards and dumps show them free.

The statements themselves (and send-back affinity) are in ``claim_queue``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import TextClause, text
from sqlalchemy.orm import Session

from smartcrop.errors import Conflict, InvalidInput, NotFound
from smartcrop.netfetch import FetchPolicy
from smartcrop.workflow import claim_queue as queue
from smartcrop.workflow.sources import fill_missing_sizes, read_image_size
from smartcrop.workflow.states import (
    CLAIM,
    LOCKED,
    OPERATOR_QUEUE,
    QA_CLAIM,
    QA_QUEUE,
    apply_move_rows,
)

# Snapshot races (a programme taken and committed between our read and our lock) and
# a free row briefly locked by another writer (the expired-lock release, a size
# stored by the suggestion pipeline) end a claim attempt empty-handed; a few quick
# retries with a fresh snapshot see the committed state. (A row locked for longer
# than all the retries makes the claim answer None rather than wait.)
MAX_ATTEMPTS = 8
RETRY_DELAY_SECONDS = 0.01


@dataclass(frozen=True)
class Claimed:
    """The programme a user now holds, and the work items of it they hold."""

    program_id: str
    image_ids: list[int]
    # Some of them have no width or height yet: the source must be read
    # (claim_operator_programme does).
    unsized: bool = False


def _held(
    session: Session,
    user_id: int,
    status: int,
    program_id: str,
    timeout_minutes: int,
) -> list[int]:
    return list(
        session.scalars(
            queue.HELD,
            {
                "user": user_id,
                "status": status,
                "program_id": program_id,
                "minutes": timeout_minutes,
            },
        )
    )


def _resume(
    session: Session,
    user_id: int,
    status: int,
    provider: str | None,
    timeout_minutes: int,
) -> Claimed | None:
    """The programme the user already holds in this queue, if any (one statement).

    Claiming is idempotent per user: a reload of the page gives the operator the same
    programme back instead of locking a second one. A lock of theirs that has expired
    is not resumed: its rows are free again, for them as for anyone.
    """
    rows = session.execute(
        queue.RESUME,
        {
            "user": user_id,
            "status": status,
            "provider": provider,
            "minutes": timeout_minutes,
        },
    ).all()
    if not rows:
        return None
    return Claimed(rows[0][1], [row[0] for row in rows], any(row[2] for row in rows))


def _claim_oldest(
    session: Session,
    selection: str,
    waiting: TextClause,
    params: dict[str, object],
    status: int,
    *,
    owner_id: int,
    actor_id: int,
    timeout_minutes: int,
) -> Claimed | None:
    move = CLAIM if status == OPERATOR_QUEUE else QA_CLAIM
    values = {
        **params,
        "window": queue.CANDIDATE_WINDOW,
        "ns": queue.CLAIM_LOCK_NAMESPACE,
        "minutes": timeout_minutes,
    }
    for attempt in range(MAX_ATTEMPTS):
        moved = apply_move_rows(
            session,
            move,
            selection,
            values,
            owner_id=owner_id,
            actor_id=actor_id,
            take_over_after_minutes=timeout_minutes,
        )
        if moved:
            return Claimed(
                moved[0].program_id,
                [row.id for row in moved],
                any(row.unsized for row in moved),
            )
        if not session.scalar(waiting, values):
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
    sendback_affinity_minutes: int = 0,
) -> Claimed | None:
    """(1,0) -> (1,1): the oldest programme of the provider's queue, all its free rows
    (and its rows whose lock has expired, taken over).

    With ``sendback_affinity_minutes``, a programme QA sent back to ``user_id`` (she
    finished it last) less than that long ago comes before the queue's oldest, and
    one sent back to another operator is not taken (``claim_queue``); 0: neither.
    Returns None when the queue is empty. Does not commit.
    """
    provider_name = (provider_name or "").strip()
    if not provider_name:
        raise InvalidInput("providerName is required")
    held = _resume(session, user_id, 1, provider_name, lock_timeout_minutes)
    if held is not None:
        return held
    affinity = sendback_affinity_minutes > 0
    return _claim_oldest(
        session,
        queue.OPERATOR_PICK_WITH_AFFINITY if affinity else queue.OPERATOR_PICK,
        queue.OPERATOR_WAITING_WITH_AFFINITY if affinity else queue.OPERATOR_WAITING,
        {
            "provider": provider_name,
            "user": user_id,
            "affinity": sendback_affinity_minutes,
        },
        1,
        owner_id=user_id,
        actor_id=actor_id if actor_id is not None else user_id,
        timeout_minutes=lock_timeout_minutes,
    )


def claim_for_qa(
    session: Session,
    program_id: str | None,
    user_id: int,
    *,
    actor_id: int | None = None,
    lock_timeout_minutes: int,
) -> Claimed | None:
    """(2,0) -> (2,1): that programme's QA rows, or the oldest programme in QA (its
    rows whose lock has expired taken over, as for operators).

    Returns None when no programme id was given and the QA queue is empty. Does not
    commit.
    """
    actor = actor_id if actor_id is not None else user_id
    # Serialise with the QA toggle (identity.set_qc_disabled locks this row FOR
    # UPDATE): QA is never switched off between its check and a claim landing.
    session.execute(text("SELECT 1 FROM smartcrop_settings WHERE id = 1 FOR SHARE"))
    program_id = (program_id or "").strip() or None
    if program_id is None:
        resumed = _resume(session, user_id, 2, None, lock_timeout_minutes)
        if resumed is not None:
            return resumed
        return _claim_oldest(
            session,
            queue.QA_PICK,
            queue.QA_WAITING,
            {},
            2,
            owner_id=user_id,
            actor_id=actor,
            timeout_minutes=lock_timeout_minutes,
        )

    # One programme asked for by id: wait for (do not skip) a claim in progress on it.
    session.execute(
        text("SELECT pg_advisory_xact_lock(:ns, hashtext(:program_id))"),
        {"ns": queue.CLAIM_LOCK_NAMESPACE, "program_id": program_id},
    )
    rows = session.execute(
        text(
            "SELECT status, currentstate, lockedby,"
            " coalesce(lockedat < now() - make_interval(mins => CAST(:minutes AS"
            " integer)), false)"
            " FROM smartcrop_programimage WHERE link_object_id = :program_id"
        ),
        {"program_id": program_id, "minutes": lock_timeout_minutes},
    ).all()
    if not rows:
        raise NotFound(f"there is no programme {program_id}")
    if any(
        s == QA_QUEUE and c == LOCKED and who != user_id and not old
        for s, c, who, old in rows
    ):
        raise Conflict(f"programme {program_id} is being reviewed by another user")
    apply_move_rows(
        session,
        QA_CLAIM,
        queue.QA_PROGRAMME_ROWS,
        {"program_id": program_id, "minutes": lock_timeout_minutes},
        owner_id=user_id,
        actor_id=actor,
        take_over_after_minutes=lock_timeout_minutes,
    )
    held = _held(session, user_id, 2, program_id, lock_timeout_minutes)
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
    sendback_affinity_minutes: int = 0,
    read_size: Callable[[str], tuple[int, int]] | None = None,
    fetch_policy: FetchPolicy | None = None,
) -> Claimed | None:
    """GetImageInfo: claim, and when some rows lack a size, commit and read them.

    With sizes to read, the claim is committed first so that no row or advisory lock
    is held while the source images are fetched, and so that it stands when a source
    cannot be read: the operator then holds the programme and can reject the broken
    image (the 400 says which). Claiming again resumes the same programme and retries
    the read. Without (the usual case), nothing waits on the network and the claim
    is committed with the request, in one transaction.
    """
    claimed = claim_for_operator(
        session,
        provider_name,
        user_id,
        actor_id=actor_id,
        lock_timeout_minutes=lock_timeout_minutes,
        sendback_affinity_minutes=sendback_affinity_minutes,
    )
    if claimed is not None and claimed.unsized:
        session.commit()
        if read_size is None:
            policy = fetch_policy or FetchPolicy()

            def read_size(url: str) -> tuple[int, int]:
                return read_image_size(url, policy=policy)

        fill_missing_sizes(session, claimed.image_ids, read_size=read_size)
    return claimed
