"""The image workflow `/image` (contract 4.1): thin routes over ``smartcrop.workflow``.

Role checks are declared on each route: operator steps need operator (or admin), QA
steps qa (or admin); the steps both stages share let either through and the domain
checks the caller works on rows of their own stage.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.bodies import Body
from api.deps import (
    CurrentUser,
    CurrentUserDep,
    SessionDep,
    SettingsDep,
    ensure_self_or_admin,
    require_roles,
)
from api.envelope import EmptyEnvelope, JsonObject, ok
from api.query import int_param, required_int, text_param
from api.schemas.image import (
    ClaimEnvelope,
    HistoryEnvelope,
    LockRenewedEnvelope,
    LocksReleasedEnvelope,
    ProgrammeEnvelope,
)
from smartcrop.netfetch import FetchPolicy
from smartcrop.renditions.storage import RenditionStorage, storage_from_settings
from smartcrop.settings import Settings
from smartcrop.workflow import claims, locks, renewal, save, status_updates
from smartcrop.workflow.actors import require_active_user, stages_of
from smartcrop.workflow.history import programme_history
from smartcrop.workflow.programmes import claimed_programme, programme_after_write
from smartcrop.workflow.states import OPERATOR_QUEUE, QA_QUEUE

router = APIRouter(prefix="/image", tags=["image"])

OperatorDep = Annotated[CurrentUser, require_roles("operator")]
QaDep = Annotated[CurrentUser, require_roles("qa")]
WorkflowDep = Annotated[CurrentUser, require_roles("operator", "qa")]

NO_IMAGES = "No images pending"


async def get_storage(request: Request) -> RenditionStorage:
    """The app's rendition store, made once (an S3 client keeps its connections).

    ``async``: once made it is only looked up, which needs no thread-pool hand-off.
    Making it may resolve cloud credentials over the network, so that (once per
    process) runs in the pool, off the event loop.
    """
    storage: RenditionStorage | None = getattr(
        request.app.state, "rendition_storage", None
    )
    if storage is None:
        storage = await run_in_threadpool(
            storage_from_settings, request.app.state.settings
        )
        request.app.state.rendition_storage = storage
    return storage


StorageDep = Annotated[RenditionStorage, Depends(get_storage)]


class RenditionBody(Body):
    AspectRatioId: int
    X: int
    Y: int
    Width: int
    Height: int
    ImageBase64: str | None = None


class ImageBody(Body):
    ImageId: int
    Status: int
    RejectReasonId: int | None = None
    # With a send-back or reject; its length is checked by the domain (400, not 422).
    Comment: str | None = None
    Renditions: list[RenditionBody] = Field(default_factory=list)


class SaveCropsBody(Body):
    ProgramId: str = Field(max_length=64)
    UserId: int | None = None
    Images: list[ImageBody] = Field(min_length=1)

    def to_request(self) -> save.SaveRequest:
        return save.SaveRequest(
            self.ProgramId,
            tuple(
                save.ImageInput(
                    image.ImageId,
                    image.Status,
                    image.RejectReasonId,
                    tuple(
                        save.RenditionInput(
                            r.AspectRatioId, r.X, r.Y, r.Width, r.Height, r.ImageBase64
                        )
                        for r in image.Renditions
                    ),
                    image.Comment,
                )
                for image in self.Images
            ),
        )


def _acting_for(session: Session, caller: CurrentUser, user_id: int | None) -> int:
    """The user a request works for: the caller, or whom an admin names (403 else)."""
    ensure_self_or_admin(caller, user_id)
    if user_id is None or user_id == caller.id:
        return caller.id
    require_active_user(session, user_id)
    return user_id


@router.get("/GetImageInfo", response_model=ClaimEnvelope)
def get_image_info(
    session: SessionDep,
    settings: SettingsDep,
    caller: OperatorDep,
    providerName: str | None = None,  # the contract's names
    user: str | None = None,
) -> JsonObject:
    owner = _acting_for(session, caller, int_param(user, "user"))
    claimed = claims.claim_operator_programme(
        session,
        text_param(providerName, "providerName") or "",
        owner,
        actor_id=caller.id,
        lock_timeout_minutes=settings.smartcrop_service.lock_timeout_minutes,
        sendback_affinity_minutes=settings.smartcrop_service.sendback_affinity_minutes,
        fetch_policy=FetchPolicy.from_settings(settings),
    )
    if claimed is None:
        return ok(None, NO_IMAGES)
    return _claim_answer(session, settings, claimed)


def _claim_answer(
    session: Session,
    settings: Settings,
    claimed: claims.Claimed,
    storage: RenditionStorage | None = None,
) -> JsonObject:
    """The claimed programme, with when its lock lapses unless renewed."""
    answer = claimed_programme(
        session,
        claimed.image_ids,
        settings,
        lock_timeout_minutes=settings.smartcrop_service.lock_timeout_minutes,
        storage=storage,
    )
    if answer is None:
        return ok(None, NO_IMAGES)
    programme, expires = answer
    return ok({**programme, "LockExpiresAt": _iso(expires)})


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _save(
    session: Session,
    settings: Settings,
    storage: RenditionStorage,
    caller: CurrentUser,
    body: SaveCropsBody,
    stage: int,
) -> JsonObject:
    owner = _acting_for(session, caller, body.UserId)
    save.save_crops(
        session,
        body.to_request(),
        stage_status=stage,
        owner_id=owner,
        actor_id=caller.id,
        settings=settings,
        storage=storage,
    )
    return ok(programme_after_write(session, body.ProgramId, settings), "Saved")


@router.post("/SaveCropedImages", response_model=ProgrammeEnvelope)
def save_croped_images(
    body: SaveCropsBody,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    caller: OperatorDep,
) -> JsonObject:
    return _save(session, settings, storage, caller, body, OPERATOR_QUEUE)


@router.get("/GetCroppedImageInfo", response_model=ClaimEnvelope)
def get_cropped_image_info(
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    caller: QaDep,
    programId: str | None = None,
    user: str | None = None,
) -> JsonObject:
    owner = _acting_for(session, caller, int_param(user, "user"))
    claimed = claims.claim_for_qa(
        session,
        text_param(programId, "programId"),
        owner,
        actor_id=caller.id,
        lock_timeout_minutes=settings.smartcrop_service.lock_timeout_minutes,
    )
    if claimed is None:
        return ok(None, NO_IMAGES)
    return _claim_answer(session, settings, claimed, storage)


@router.get("/DeleteCroppedImageInfo", response_model=EmptyEnvelope)
def delete_cropped_image_info(
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    caller: WorkflowDep,
    programId: str | None = None,
    id: str | None = None,  # the AspectRatioId
    imageid: str | None = None,
) -> JsonObject:
    save.delete_rendition(
        session,
        text_param(programId, "programId") or "",
        required_int(imageid, "imageid"),
        required_int(id, "id"),
        owner_id=caller.id,
        stage_statuses=stages_of(caller.role),
        settings=settings,
        storage=storage,
    )
    return ok(None, "Rendition deleted")


@router.get("/UpdateStatus", response_model=ProgrammeEnvelope)
def update_status(
    session: SessionDep,
    settings: SettingsDep,
    caller: WorkflowDep,
    programId: str | None = None,
    status: str | None = None,
    currentState: str | None = None,
    rejectReasonId: str | None = None,
    comment: str | None = None,
) -> JsonObject:
    program_id = text_param(programId, "programId") or ""
    status_updates.update_status(
        session,
        program_id,
        required_int(status, "status"),
        required_int(currentState, "currentState"),
        owner_id=caller.id,
        actor_id=caller.id,
        stage_statuses=stages_of(caller.role),
        lock_timeout_minutes=settings.smartcrop_service.lock_timeout_minutes,
        reject_reason_id=int_param(rejectReasonId, "rejectReasonId"),
        comment=comment,
        required_aspect_ratios=settings.smartcrop_service.required_aspect_ratios,
    )
    return ok(programme_after_write(session, program_id, settings), "Status updated")


@router.get("/History", response_model=HistoryEnvelope)
def history(
    session: SessionDep, caller: WorkflowDep, programId: str | None = None
) -> JsonObject:
    return ok(
        programme_history(
            session,
            text_param(programId, "programId") or "",
            viewer_id=caller.id,
            viewer_role=caller.role,
        )
    )


@router.get("/UpdateUserLockStatus", response_model=LocksReleasedEnvelope)
def update_user_lock_status(
    session: SessionDep,
    caller: CurrentUserDep,
    userId: str | None = None,
) -> JsonObject:
    user_id = int_param(userId, "userId")
    ensure_self_or_admin(caller, user_id)
    target = caller.id if user_id is None else user_id
    released = locks.release_user_locks(session, target, caller.id)
    return ok({"UserId": target, "ReleasedImages": released}, "Locks released")


@router.post("/UpdateCroppedImageInfo", response_model=ProgrammeEnvelope)
def update_cropped_image_info(
    body: SaveCropsBody,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    caller: QaDep,
) -> JsonObject:
    return _save(session, settings, storage, caller, body, QA_QUEUE)


@router.get("/RenewLock", response_model=LockRenewedEnvelope)
def renew_lock(
    session: SessionDep,
    settings: SettingsDep,
    caller: WorkflowDep,
    programId: str | None = None,
) -> JsonObject:
    renewed = renewal.renew_lock(
        session,
        text_param(programId, "programId") or "",
        caller.id,
        stage_statuses=stages_of(caller.role),
        timeout_minutes=settings.smartcrop_service.lock_timeout_minutes,
    )
    return ok(
        {
            "ProgramId": renewed.program_id,
            "LockExpiresAt": _iso(renewed.expires_at),
            "RenewedImages": len(renewed.image_ids),
        },
        "Lock renewed",
    )
