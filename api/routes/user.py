"""Users and logging in `/user` (contract 4.7 and "Authentication and roles")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import Field

from api.bodies import Body
from api.deps import (
    ADMIN_ROLE,
    CurrentUser,
    CurrentUserDep,
    SessionDep,
    SettingsDep,
    require_roles,
)
from api.envelope import EmptyEnvelope, JsonObject, ok
from api.schemas.user import (
    LoginEnvelope,
    UserEnvelope,
    UserListEnvelope,
    UserRolesEnvelope,
)
from smartcrop import identity
from smartcrop.errors import PermissionDenied

router = APIRouter(prefix="/user", tags=["user"])

# Argon2 hashes whatever it gets: a cap keeps a huge "password" from costing CPU.
MAX_PASSWORD = 1024
AdminDep = Annotated[CurrentUser, require_roles(ADMIN_ROLE)]


class LoginBody(Body):
    EmailID: str = Field(max_length=254)
    Password: str = Field(max_length=MAX_PASSWORD)


class RegisterBody(Body):
    UserName: str = Field(max_length=128)
    EmailID: str = Field(max_length=254)
    Password: str = Field(max_length=MAX_PASSWORD)
    RoleName: str = Field(max_length=64)


class UpdateBody(Body):
    UserId: int
    UserName: str | None = Field(default=None, max_length=128)
    RoleName: str | None = Field(default=None, max_length=64)
    Password: str | None = Field(default=None, max_length=MAX_PASSWORD)
    IsActive: bool | None = None


class UpdatePasswordBody(Body):
    EmailID: str = Field(max_length=254)
    OldPassword: str | None = Field(default=None, max_length=MAX_PASSWORD)
    NewPassword: str = Field(max_length=MAX_PASSWORD)


class DeleteBody(Body):
    UserId: int


@router.post("/Login", response_model=LoginEnvelope)
def login(
    body: LoginBody, request: Request, session: SessionDep, settings: SettingsDep
) -> JsonObject:
    result = identity.login(
        session,
        settings,
        email=body.EmailID,
        password=body.Password,
        # The peer address; behind a proxy run uvicorn with --proxy-headers so this
        # is the real client and not the proxy.
        client_address=request.client.host if request.client else None,
    )
    return ok(
        {
            "Token": result.token,
            "TokenType": "Bearer",
            "ExpiresIn": result.expires_in,
            "UserId": result.user_id,
            "UserName": result.user_name,
            "EmailID": result.email,
            "RoleName": result.role,
        }
    )


@router.post("/Logout", response_model=EmptyEnvelope)
def logout(session: SessionDep, caller: CurrentUserDep) -> JsonObject:
    """End the calling token at once, in every API process (contract 4.10); the
    user's other tokens live on."""
    identity.revoke_token(
        session,
        user_id=caller.id,
        token_id=caller.token_id,
        expires_at=caller.token_expires,
    )
    return ok(None, "Logged out")


@router.post("/Register", response_model=UserEnvelope)
def register(body: RegisterBody, session: SessionDep, _: AdminDep) -> JsonObject:
    user = identity.register_user(
        session,
        name=body.UserName,
        email=body.EmailID,
        password=body.Password,
        role_name=body.RoleName,
    )
    return ok(user, "User registered")


@router.post("/Update", response_model=UserEnvelope)
def update(body: UpdateBody, session: SessionDep, _: AdminDep) -> JsonObject:
    user = identity.update_user(
        session,
        user_id=body.UserId,
        name=body.UserName,
        role_name=body.RoleName,
        password=body.Password,
        is_active=body.IsActive,
    )
    return ok(user, "User updated")


@router.post("/UpdatePassword", response_model=EmptyEnvelope)
def update_password(
    body: UpdatePasswordBody, session: SessionDep, caller: CurrentUserDep
) -> JsonObject:
    # Any signed-in user, for their own e-mail; admin for anyone (checked inside).
    identity.change_password(
        session,
        caller_id=caller.id,
        caller_is_admin=caller.role == ADMIN_ROLE,
        email=body.EmailID,
        old_password=body.OldPassword,
        new_password=body.NewPassword,
    )
    return ok(None, "Password changed; tokens issued before no longer work")


@router.post("/UserRoleDetails", response_model=UserRolesEnvelope)
def user_role_details(
    session: SessionDep,
    caller: CurrentUserDep,
    email: Annotated[
        str, Query(alias="EmailID", max_length=254, pattern=r"^[^\x00]*$")
    ],
) -> JsonObject:
    # Any signed-in user may ask about their own e-mail; admin about anyone's.
    if caller.role != ADMIN_ROLE and email.strip().lower() != caller.email.lower():
        raise PermissionDenied("You may only look up your own role")
    return ok(identity.user_roles(session, email))


@router.get("/UserList", response_model=UserListEnvelope)
def user_list(session: SessionDep, _: AdminDep) -> JsonObject:
    return ok(identity.list_users(session))


@router.post("/Delete", response_model=EmptyEnvelope)
def delete(body: DeleteBody, session: SessionDep, _: AdminDep) -> JsonObject:
    identity.deactivate_user(session, body.UserId)
    return ok(None, "User deactivated")
