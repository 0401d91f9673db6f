"""What waits for the nightly manifest: step 1 of the export (``prepare``), and what
the export assets report about the queue (``pending``,
``completed_without_renditions``).

The queue is the completed work items not yet stamped with a manifest's name
(``status = COMPLETED AND outputfilename IS NULL``), which is exactly the predicate
of the partial index ``ix_smartcrop_programimage_export_queue``. The statements here
write the state numbers into their text (constants from ``workflow/states.py``, never
values from outside), not as bound parameters: the planner can only use a partial
index when it sees at plan time that the query's predicate implies the index's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from smartcrop import lookups
from smartcrop.workflow import states
from smartcrop.workflow.states import COMPLETED, FREE, QA_QUEUE

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prepared:
    completed_from_qa: int = 0
    resolved: dict[str, int] = field(default_factory=dict)


# --- step 1: prepare ----------------------------------------------------------------

# The rows one cropper left in the QA queue, locked; the state machine moves them.
_QA_QUEUE_OF_CROPPER = f"""old AS (
    SELECT id, lockedby FROM smartcrop_programimage
    WHERE status = {QA_QUEUE} AND currentstate = {FREE}
      AND croppedby IS NOT DISTINCT FROM CAST(:cropper AS integer)
    ORDER BY id FOR UPDATE
)"""  # noqa: S608 - only the state constants are put in

_CROPPERS_IN_QA = text(
    "SELECT DISTINCT croppedby FROM smartcrop_programimage"  # noqa: S608 - constants
    f" WHERE status = {QA_QUEUE} AND currentstate = {FREE}"
)


def complete_qa_queue(session: Session) -> int:
    """With QA disabled, move every (2,0) row to (3,0); return how many moved.

    The operator who cropped an image is recorded as who completed it (QA was
    skipped, so their crop is the final one); the audit row names no user (the
    system did it) and says why.
    """
    # FOR SHARE: the QA toggle cannot flip while we act on it.
    disabled = session.scalar(
        text("SELECT qcdisabled FROM smartcrop_settings WHERE id = 1 FOR SHARE")
    )
    if not disabled:
        return 0
    croppers = session.scalars(_CROPPERS_IN_QA).all()
    moved = 0
    for cropper in croppers:
        moved += len(
            states.apply_move(
                session,
                states.QA_SKIPPED,
                _QA_QUEUE_OF_CROPPER,
                {"cropper": cropper},
                owner_id=cropper,
                actor_id=None,
                details={"reason": "QA disabled: completed by the nightly manifest"},
            )
        )
    return moved


# The queue's rows, as the export queue's partial index selects them.
_QUEUED = f"status = {COMPLETED} AND outputfilename IS NULL"

# Fixed statements per lookup (no column names built at run time); the S608 noqa
# comments below: only _QUEUED, built from the state constants, is put in.
_MISSING_TYPES = text(
    f"SELECT DISTINCT imagetype FROM smartcrop_programimage WHERE {_QUEUED}"  # noqa: S608
    " AND imagetypeid IS NULL AND imagetype IS NOT NULL"
)
_SET_TYPE = text(
    "UPDATE smartcrop_programimage SET imagetypeid = :id, updatedat = now()"  # noqa: S608
    f" WHERE {_QUEUED} AND imagetypeid IS NULL"
    " AND imagetype = :value"
)
_MISSING_LANGUAGES = text(
    f"SELECT DISTINCT language FROM smartcrop_programimage WHERE {_QUEUED}"  # noqa: S608
    " AND languageid IS NULL AND language IS NOT NULL"
)
_SET_LANGUAGE = text(
    "UPDATE smartcrop_programimage SET languageid = :id, updatedat = now()"  # noqa: S608
    f" WHERE {_QUEUED} AND languageid IS NULL"
    " AND language = :value"
)


def resolve_missing_lookups(session: Session) -> dict[str, int]:
    """Give rows about to be exported the lookup ids their text maps to.

    The mapping is the ingestion's (``smartcrop.lookups``); an unknown value keeps an
    empty id and is exported as the provider's text, never guessed.
    """
    resolved = {"image_types": 0, "languages": 0}
    for key, select, update, mapper in (
        ("image_types", _MISSING_TYPES, _SET_TYPE, lookups.image_type_id),
        ("languages", _MISSING_LANGUAGES, _SET_LANGUAGE, lookups.language_id),
    ):
        for value in session.scalars(select).all():
            found = mapper(value)
            if found is not None:
                result = session.execute(update, {"id": found, "value": value})
                resolved[key] += result.rowcount  # type: ignore[attr-defined]
    return resolved


# Whether step 1 has anything to do: images waiting in QA while QA is disabled
# (complete_qa_queue), or rows to export with a lookup id missing
# (resolve_missing_lookups). Most nights there are none, and then this one query
# answers, instead of a lock on the QA toggle and a look at both lookups.
_PREPARE_NEEDED = text(f"""
SELECT coalesce((SELECT qcdisabled FROM smartcrop_settings WHERE id = 1), false)
       AND EXISTS (SELECT 1 FROM smartcrop_programimage
                   WHERE status = {QA_QUEUE} AND currentstate = {FREE})
    OR EXISTS (SELECT 1 FROM smartcrop_programimage
               WHERE {_QUEUED}
                 AND (imagetypeid IS NULL AND imagetype IS NOT NULL
                      OR languageid IS NULL AND language IS NOT NULL))
""")  # noqa: S608 - only the state constants are put in


def prepare(engine: Engine) -> Prepared:
    """Step 1, committed on its own: these changes stand whatever the export does."""
    with Session(engine) as session, session.begin():
        if not session.scalar(_PREPARE_NEEDED):
            return Prepared(0, {"image_types": 0, "languages": 0})
        # complete_qa_queue looks again, under its lock on the QA toggle.
        completed = complete_qa_queue(session)
        resolved = resolve_missing_lookups(session)
    if completed:
        log.info("QA disabled: completed %d image(s) waiting in QA", completed)
    return Prepared(completed, resolved)


# --- what the assets report ---------------------------------------------------------

# Per queued image through its renditions' index (LATERAL): the planner guesses
# status x outputfilename badly (140,000 rows for 1,000 at 3M work items) and a plain
# join hash-joined a scan of every rendition (2.8 s).
_PENDING = text(
    "SELECT count(*), coalesce(sum(r.n), 0)"  # noqa: S608 - constants only
    " FROM smartcrop_programimage p"
    " CROSS JOIN LATERAL (SELECT count(*) AS n"
    "   FROM smartcrop_aspectratioimages a WHERE a.programimageid = p.id) r"
    f" WHERE p.status = {COMPLETED} AND p.outputfilename IS NULL"
    " AND r.n > 0"
)


def pending(engine: Engine) -> tuple[int, int]:
    """(images, renditions) completed and not yet in a manifest."""
    with Session(engine) as session:
        images, renditions = session.execute(_PENDING).one()
    return int(images), int(renditions)


@dataclass(frozen=True)
class Unexportable:
    """Completed images the manifest leaves out for ever: they have no rendition."""

    images: int
    first: list[tuple[int, str, str]]  # (image id, ProgramId, provider)

    @property
    def none(self) -> bool:
        return self.images == 0


# The manifest's queue without a rendition: the export's batch skips these, so they
# stay Completed and unexported unless someone crops them again. The count is taken
# before the LIMIT (a window over the whole result).
_WITHOUT_RENDITIONS = text(f"""
SELECT count(*) OVER (), p.id, p.link_object_id, p.providername
FROM smartcrop_programimage p
WHERE p.status = {COMPLETED} AND p.outputfilename IS NULL
  AND NOT EXISTS (SELECT 1 FROM smartcrop_aspectratioimages a
                  WHERE a.programimageid = p.id)
ORDER BY p.link_object_id COLLATE "C", p.id
LIMIT :limit
""")  # noqa: S608 - only the state constants are put in


def completed_without_renditions(engine: Engine, limit: int = 20) -> Unexportable:
    """The completed, unexported images that have no rendition: how many, and the
    first ``limit`` in manifest order."""
    with Session(engine) as session:
        rows = session.execute(_WITHOUT_RENDITIONS, {"limit": limit}).all()
    return Unexportable(
        images=int(rows[0][0]) if rows else 0,
        first=[(int(image), program, provider) for _, image, program, provider in rows],
    )
