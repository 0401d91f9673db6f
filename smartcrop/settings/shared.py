"""What several sections of the settings share: the strict section base, credentials
(plain or base64, as legacy files give them) and an HTTP CONNECT proxy."""

from __future__ import annotations

import base64
import binascii

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)


class Section(BaseModel):
    # A misspelt key is an error naming the key, not a silently ignored setting.
    model_config = ConfigDict(extra="forbid")


def _decode_b64(value: str, what: str) -> str:
    try:
        return base64.b64decode(value.encode("ascii"), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise ValueError(f"{what} is not valid base64 text") from exc


class Credentials(Section):
    """A user name and password, given plainly or base64-encoded (legacy configs)."""

    username: str | None = None
    password: SecretStr | None = None
    username_b64: SecretStr | None = None
    password_b64: SecretStr | None = None

    @field_validator("username_b64", "password_b64")
    @classmethod
    def _check_b64(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            _decode_b64(value.get_secret_value(), "the value")
        return value

    @model_validator(mode="after")
    def _decode(self) -> Credentials:
        # Plain values win over base64 ones: an operator overriding a file's base64
        # credentials with plain environment variables means the plain ones.
        if self.username is None and self.username_b64 is not None:
            self.username = _decode_b64(
                self.username_b64.get_secret_value(), "username"
            )
        if self.password is None and self.password_b64 is not None:
            self.password = SecretStr(
                _decode_b64(self.password_b64.get_secret_value(), "password")
            )
        return self

    @property
    def password_text(self) -> str | None:
        return self.password.get_secret_value() if self.password is not None else None


class ProxyConfig(Section):
    host: str
    port: int = Field(gt=0, lt=65536)
