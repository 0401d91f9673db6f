"""The claim + save cycle of an operator, shared by ``claims``, ``claims_capacity``
and ``scale``: the SaveCropedImages body that finishes a claimed programme (over
HTTP), and the same cycle as bare SQL with ``FOR UPDATE SKIP LOCKED`` (the
baseline)."""

from __future__ import annotations

import base64
import io

ASPECT_1X1 = 5


def tiny_png(size: int = 8) -> str:
    from PIL import Image  # noqa: PLC0415

    out = io.BytesIO()
    Image.new("RGB", (size, size), (200, 120, 40)).save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode("ascii")


def finish_body(program_id: str, user_id: int, image_ids: list[int], png: str) -> dict:
    """The SaveCropedImages body that finishes a claimed programme: one tiny 1x1
    rendition per image, sent on to QA (Status 2)."""
    return {
        "ProgramId": program_id,
        "UserId": user_id,
        "Images": [
            {
                "ImageId": image_id,
                "Status": 2,
                "Renditions": [
                    {
                        "AspectRatioId": ASPECT_1X1,
                        "X": 0,
                        "Y": 0,
                        "Width": 8,
                        "Height": 8,
                        "ImageBase64": png,
                    }
                ],
            }
            for image_id in image_ids
        ],
    }


# The oldest free programme, by its first free row (so two claims never split one
# programme between them), skipping rows other claims hold; then all its free rows.
SQL_CLAIM = """
WITH pick AS (
    SELECT q.link_object_id FROM smartcrop_programimage q
    WHERE lower(q.providername) = lower(%(provider)s) AND q.status = 1
      AND q.currentstate = 0
      AND NOT EXISTS (
        SELECT 1 FROM smartcrop_programimage o
        WHERE o.link_object_id = q.link_object_id AND o.status = 1 AND o.id < q.id)
    ORDER BY q.createdat, q.link_object_id
    LIMIT 1
    FOR UPDATE SKIP LOCKED
)
UPDATE smartcrop_programimage p
SET currentstate = 1, lockedby = %(user)s, lockedat = now()
FROM pick
WHERE p.link_object_id = pick.link_object_id AND p.status = 1 AND p.currentstate = 0
RETURNING p.id, p.link_object_id
"""
SQL_RENDITION = """
INSERT INTO smartcrop_aspectratioimages (programimageid, link_object_id,
    aspectratioid, cropx, cropy, cropwidth, cropheight, storagekey, imageurl,
    filesize, createdby)
SELECT id, link_object_id, %(ratio)s, 0, 0, 8, 8,
       'bench/' || id || '/1x1.png', 'http://127.0.0.1:9/renditions/' || id,
       %(size)s, %(user)s
FROM smartcrop_programimage WHERE id = ANY(%(ids)s)
"""
SQL_FINISH = """
UPDATE smartcrop_programimage
SET status = 2, currentstate = 0, lockedby = NULL, lockedat = NULL,
    croppedby = %(user)s, croppedat = now(), updatedat = now()
WHERE id = ANY(%(ids)s) AND lockedby = %(user)s
"""
