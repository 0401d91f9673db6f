"""Helpers of the save tests: a crop to send, a save as the API makes it, the renditions
stored."""

from __future__ import annotations

from sqlalchemy import Engine, text

from smartcrop.workflow.save import RenditionInput, save_crops
from tests.support.work_items import image_b64, sessions


def crop(ratio: int = 1, w: int = 160, h: int = 90, fmt: str = "PNG", **kw):
    return RenditionInput(
        ratio, kw.get("x", 0), kw.get("y", 0), w, h, image_b64(w, h, fmt)
    )


def save(engine, settings, storage, request, owner, *, stage=1, route=lambda s, p: 2):
    with sessions(engine).begin() as session:
        return save_crops(
            session,
            request,
            stage_status=stage,
            owner_id=owner,
            actor_id=owner,
            settings=settings,
            storage=storage,
            route=route,
        )


def renditions(engine: Engine) -> list[tuple]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text(
                    "SELECT programimageid, aspectratioid, cropwidth, cropheight,"
                    " storagekey, imageurl, createdby, updatedby"
                    " FROM smartcrop_aspectratioimages ORDER BY 1, 2"
                )
            )
        ]
