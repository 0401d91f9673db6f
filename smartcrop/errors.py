"""Domain errors. Each says, in words a user can act on, why a request was refused.

The API maps each class onto its HTTP status (api/errors.py); Dagster assets let them
fail a step with the same message. No message ever holds SQL or a stack trace.
"""

from __future__ import annotations


class SmartcropError(Exception):
    """Base class: a refusal, not a crash."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(SmartcropError):
    """The request is well-formed but its values break a rule (HTTP 400)."""


class Unauthorized(SmartcropError):
    """No identity, or one that cannot be trusted (HTTP 401)."""


class PermissionDenied(SmartcropError):
    """The caller is known but may not do this (HTTP 403)."""


class NotFound(SmartcropError):
    """The thing asked for does not exist (HTTP 404)."""


class Conflict(SmartcropError):
    """The current state forbids it: a lock held by someone else, a duplicate (409)."""


class TooManyRequests(SmartcropError):
    """Throttled; try again later (HTTP 429)."""


class ServiceUnavailable(SmartcropError):
    """A service this needs (Dagster's webserver) cannot be reached (HTTP 503)."""


class FetchRefused(InvalidInput):
    """A provider URL the fetch policy refuses (smartcrop/netfetch.py): not http(s),
    or its host resolves to a loopback, private, link-local or other non-public
    address that is not allowed. No request was sent (HTTP 400)."""
