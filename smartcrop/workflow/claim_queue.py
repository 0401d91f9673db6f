"""The SQL of claims: which programme a claim takes, read from the queues' indexes.

``claims`` runs these statements. An operator's claim reads, before the queue, the
programmes QA sent back to her (send-back affinity): the operator queue's rows that
QA sent back (a free status-1 row with a review time) and that she finished last
(``croppedby``), sent back less than ``smartcrop_service.sendback_affinity_minutes``
ago, from their own small partial index (migration 0007). Within that time such rows
are hidden from every other operator's claim; after it they are ordinary queue rows.
With the setting at 0 the statements are those without affinity.
"""

from __future__ import annotations

from sqlalchemy import text

from smartcrop.workflow.states import FREE, LOCKED, OPERATOR_QUEUE, QA_QUEUE

# Advisory-lock namespace of claims (first key of the two-key form), so that the
# programme hashes never collide with advisory locks taken for anything else.
CLAIM_LOCK_NAMESPACE = 0x5C0C
# How many queue rows a claim looks through for a programme nobody else is taking.
CANDIDATE_WINDOW = 256


def _expired(alias: str) -> str:
    """SQL: the row's lock (if any) is older than ``:minutes``."""
    return (
        f"{alias}.lockedat < now() - make_interval(mins => CAST(:minutes AS integer))"
    )


def _live(alias: str) -> str:
    """SQL: the row's lock is not older than ``:minutes`` (a held row)."""
    return (
        f"{alias}.lockedat >= now() - make_interval(mins => CAST(:minutes AS integer))"
    )


def _not_reserved_for_another(alias: str) -> str:
    """SQL: the row is not waiting, after a send-back less than ``:affinity`` minutes
    old, for an operator other than ``:user``."""
    return f"""({alias}.reviewedat IS NULL OR {alias}.croppedby IS NULL
            OR {alias}.croppedby = CAST(:user AS integer)
            OR {alias}.reviewedat
               < now() - make_interval(mins => CAST(:affinity AS integer)))"""


def _same_provider(alias: str, with_provider: bool) -> str:
    """SQL: the row ``alias`` is of the candidate ``q``'s provider (when claims are
    by provider), in the lower() form of the operator-queue index."""
    if not with_provider:
        return ""
    return f"AND lower({alias}.providername) = lower(q.providername)"


def _programme_not_reserved_for_another(alias: str, with_provider: bool) -> str:
    """SQL: no free row of the row's programme waits, after a send-back less than
    ``:affinity`` minutes old, for an operator other than ``:user``. A programme is
    claimed whole: an image a later file added to a sent-back programme waits with
    it for its operator, instead of going to whoever asks first."""
    return f"""NOT EXISTS (
                SELECT 1 FROM smartcrop_programimage s
                WHERE s.link_object_id = {alias}.link_object_id
                  {_same_provider("s", with_provider)}
                  AND s.status = {OPERATOR_QUEUE} AND s.currentstate = {FREE}
                  AND s.reviewedat IS NOT NULL
                  AND s.croppedby <> CAST(:user AS integer)
                  AND s.reviewedat
                      >= now() - make_interval(mins => CAST(:affinity AS integer)))"""  # noqa: S608 - this module's constants only


def _candidates(
    status: int, with_provider: bool, affinity: bool = False, sent_back: bool = False
) -> str:
    """Queue rows a claim may take, oldest first: free ones and ones whose lock has
    expired, of programmes with no row under a live lock of this stage.

    Two branches rather than one OR, so the free rows are still read in order from
    the queue's partial index (and the expired ones from the small index of locked
    rows); the caller's own live programmes are resumed before we get here. With
    ``affinity`` (operator claims) they skip rows sent back to another operator,
    and programmes holding such a row;
    ``sent_back`` reads instead the free rows sent back to ``:user`` (from their own
    index).
    """
    # Provider names match case-insensitively (an operator typing "nbcu" gets NBCU's
    # queue), in the lower() form the operator-queue index is built on (migration
    # 0006), so the free rows are still read in order from that index.
    provider = "lower(q.providername) = lower(:provider) AND " if with_provider else ""
    nobody_holds = f"""NOT EXISTS (
                SELECT 1 FROM smartcrop_programimage h
                WHERE h.link_object_id = q.link_object_id
                  {_same_provider("h", with_provider)}
                  AND h.status = {status} AND h.currentstate = {LOCKED}
                  AND {_live("h")})"""  # noqa: S608 - this module's constants only
    if affinity:
        nobody_holds += f" AND {_not_reserved_for_another('q')}"
        nobody_holds += " AND " + _programme_not_reserved_for_another(
            "q", with_provider
        )
    branch = """(SELECT q.link_object_id, q.createdat FROM smartcrop_programimage q
            WHERE {provider}q.status = {status} AND {which} AND {nobody_holds}
            ORDER BY q.createdat, q.link_object_id
            LIMIT :window)"""
    if sent_back:
        return branch.format(
            provider=provider,
            status=status,
            which=f"""q.currentstate = {FREE} AND q.reviewedat IS NOT NULL
              AND q.croppedby = CAST(:user AS integer)
              AND q.reviewedat
                  >= now() - make_interval(mins => CAST(:affinity AS integer))""",
            nobody_holds=nobody_holds,
        )
    free = branch.format(
        provider=provider,
        status=status,
        which=f"q.currentstate = {FREE}",
        nobody_holds=nobody_holds,
    )
    expired = branch.format(
        provider=provider,
        status=status,
        which=f"q.currentstate = {LOCKED} AND {_expired('q')}",
        nobody_holds=nobody_holds,
    )
    return f"""{free}
        UNION ALL
        {expired}
        ORDER BY createdat, link_object_id
        LIMIT :window"""  # noqa: S608 - built from this module's constants only


def _first_taken(candidates: str) -> str:
    """SQL (a scalar subquery): the first candidate programme whose advisory lock
    this transaction gets; NULL when none."""
    return f"""(SELECT c.link_object_id FROM (
            {candidates}
        ) c
        WHERE pg_try_advisory_xact_lock(:ns, hashtext(c.link_object_id))
        LIMIT 1)"""  # noqa: S608 - built from this module's constants only


def _pick_oldest(status: int, with_provider: bool, affinity: bool = False) -> str:
    """CTEs ``pick`` (the programme) and ``old`` (its free or expired rows, locked).

    The rows are locked with SKIP LOCKED and taken only when every one the snapshot
    shows free could be locked and still is: a claim never waits on a row lock. (The
    statement's snapshot can predate another claim's commit: then the programme's
    rows are already held and being written by their new holder, and waiting for
    them while holding some could deadlock with that writer.) Otherwise nothing
    moves and the claim tries again with a fresh snapshot.

    With ``affinity``, the programmes sent back to ``:user`` are tried first, then
    the queue: ``coalesce`` evaluates its second subquery only when the first found
    nothing, so the queue is read (and an advisory lock tried) only then, and each
    read stops at its first programme taken. Rows sent back to another operator
    stay out of the programme taken.
    """
    provider_of_rows = (
        "AND lower(p.providername) = lower(:provider)" if with_provider else ""
    )
    pick = f"""SELECT c.link_object_id FROM (
            {_candidates(status, with_provider)}
        ) c
        WHERE pg_try_advisory_xact_lock(:ns, hashtext(c.link_object_id))
        LIMIT 1"""  # noqa: S608 - built from this module's constants only
    if affinity:
        provider_of_rows += f" AND {_not_reserved_for_another('p')}"
        mine = _first_taken(_candidates(status, with_provider, sent_back=True))
        queue = _first_taken(_candidates(status, with_provider, affinity=True))
        pick = f"""SELECT link_object_id FROM (
            SELECT coalesce({mine}, {queue}) AS link_object_id
        ) first WHERE link_object_id IS NOT NULL"""  # noqa: S608 - as above
    rows_of_pick = f"""smartcrop_programimage p
        JOIN pick ON pick.link_object_id = p.link_object_id
        WHERE p.status = {status} AND (p.currentstate = {FREE} OR {_expired("p")})
          {provider_of_rows}"""  # noqa: S608 - built from this module's constants only
    return f"""pick AS MATERIALIZED (
        {pick}
    ),
    locked AS (
        SELECT p.id, p.lockedby FROM {rows_of_pick}
        ORDER BY p.id
        FOR UPDATE OF p SKIP LOCKED
    ),
    old AS (
        SELECT id, lockedby FROM locked
        WHERE (SELECT count(*) FROM locked) = (SELECT count(*) FROM {rows_of_pick})
    )"""  # noqa: S608 - built from this module's constants only


# (selection of the claim's move, "is anything still waiting") of each queue.
OPERATOR_PICK = _pick_oldest(OPERATOR_QUEUE, with_provider=True)
OPERATOR_WAITING = text(
    f"SELECT EXISTS ({_candidates(OPERATOR_QUEUE, with_provider=True)})"  # noqa: S608
)
OPERATOR_PICK_WITH_AFFINITY = _pick_oldest(
    OPERATOR_QUEUE, with_provider=True, affinity=True
)
OPERATOR_WAITING_WITH_AFFINITY = text(
    f"SELECT EXISTS ({_candidates(OPERATOR_QUEUE, with_provider=True, sent_back=True)})"  # noqa: S608
    f" OR EXISTS ({_candidates(OPERATOR_QUEUE, with_provider=True, affinity=True)})"
)
QA_PICK = _pick_oldest(QA_QUEUE, with_provider=False)
QA_WAITING = text(f"SELECT EXISTS ({_candidates(QA_QUEUE, with_provider=False)})")  # noqa: S608

QA_PROGRAMME_ROWS = f"""old AS (
    SELECT id, lockedby FROM smartcrop_programimage
    WHERE link_object_id = :program_id AND status = {QA_QUEUE}
      AND (currentstate = {FREE} OR {_expired("smartcrop_programimage")})
    ORDER BY id
    FOR UPDATE
)"""  # noqa: S608 - built from this module's constants only

# The programme the user holds (live locks only) in this queue, all its held rows.
RESUME = text(f"""
    SELECT id, link_object_id, (width IS NULL OR height IS NULL)
    FROM smartcrop_programimage r
    WHERE lockedby = :user AND currentstate = {LOCKED} AND status = :status
      AND {_live("r")}
      AND link_object_id = (
        SELECT link_object_id FROM smartcrop_programimage o
        WHERE lockedby = :user AND currentstate = {LOCKED} AND status = :status
          AND {_live("o")}
          AND (CAST(:provider AS text) IS NULL
               OR lower(providername) = lower(:provider))
        ORDER BY lockedat, createdat, link_object_id LIMIT 1)
    ORDER BY id
    """)  # noqa: S608 - built from this module's constants only

HELD = text(f"""
    SELECT id FROM smartcrop_programimage r
    WHERE lockedby = :user AND currentstate = {LOCKED} AND status = :status
      AND link_object_id = :program_id AND {_live("r")}
    ORDER BY id
    """)  # noqa: S608 - built from this module's constants only
