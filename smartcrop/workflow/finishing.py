"""What an image needs before it is finished or approved: its renditions.

An image that reaches Completed without a rendition gives the nightly manifest no row
(its rows are renditions, contract section 6): it would never be exported or stamped.
So an operator's finish (Status 2 or 3: QA routing decides) and a QA approval (3) need
at least one rendition of the image, stored or in the request, and one of every
aspect ratio ``smartcrop_service.required_aspect_ratios`` names. Rejects, send-backs
and releases need none.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

from smartcrop.errors import InvalidInput
from smartcrop.lookups import ASPECT_RATIOS
from smartcrop.workflow.states import APPROVE, FINISH_COMPLETED, FINISH_TO_QA, Move

FINISHING_MOVES: frozenset[Move] = frozenset({FINISH_TO_QA, FINISH_COMPLETED, APPROVE})

_RATIO_IDS = {ratio.title: ratio.id for ratio in ASPECT_RATIOS}

_STORED = text(
    "SELECT programimageid, aspectratioid FROM smartcrop_aspectratioimages"
    " WHERE programimageid = ANY(:ids)"
)


def require_renditions(
    session: Session,
    image_ids: Collection[int],
    *,
    required_aspect_ratios: Sequence[str],
    sent: Mapping[int, Collection[int]] | None = None,
) -> None:
    """Refuse (400, naming every image and what it lacks) to finish these images
    unless each has a rendition, and one of each required aspect ratio, among those
    stored and those ``sent`` in the request (aspect-ratio ids by image id)."""
    required = [_RATIO_IDS[title] for title in required_aspect_ratios]
    have: dict[int, set[int]] = {
        image_id: set((sent or {}).get(image_id, ())) for image_id in image_ids
    }
    # The stored renditions are read only for images the request does not already
    # satisfy (the usual save sends every crop): no statement then.
    unsure = sorted(i for i, r in have.items() if not r or not r.issuperset(required))
    if not unsure:
        return
    for image_id, ratio_id in session.execute(_STORED, {"ids": unsure}):
        have[image_id].add(ratio_id)
    problems: list[str] = []
    for image_id in unsure:
        ratios = have[image_id]
        lacking = ", ".join(
            t for t in required_aspect_ratios if _RATIO_IDS[t] not in ratios
        )
        if not ratios:
            needed = f" (needed: {lacking})" if lacking else ""
            problems.append(f"image {image_id} has no rendition{needed}")
        elif lacking:
            problems.append(
                f"image {image_id} has no rendition at the required aspect ratios "
                f"{lacking}"
            )
    if problems:
        raise InvalidInput(
            "an image needs its renditions before it is finished or approved: "
            + "; ".join(problems)
        )
