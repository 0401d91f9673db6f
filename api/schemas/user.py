"""``Data`` of ``/user`` (contract 4.7 and "Authentication and roles")."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.envelope import Envelope


class Login(BaseModel):
    Token: str = Field(description="Send as `Authorization: Bearer <Token>`")
    TokenType: Literal["Bearer"]
    ExpiresIn: int = Field(description="Seconds until the token expires")
    UserId: int
    UserName: str
    EmailID: str
    RoleName: str


class User(BaseModel):
    """A user as the API shows one: never a password or its hash."""

    UserId: int
    UserName: str
    EmailID: str
    RoleName: str
    IsActive: bool


class UserRole(BaseModel):
    RoleId: int
    RoleName: str


# The routes' response models: named subclasses, so that the OpenAPI document names
# their schemas (see api/envelope.py).


class LoginEnvelope(Envelope[Login]):
    pass


class UserEnvelope(Envelope[User]):
    pass


class UserListEnvelope(Envelope[list[User]]):
    pass


class UserRolesEnvelope(Envelope[list[UserRole]]):
    pass
