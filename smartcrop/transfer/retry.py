"""Retry with exponential backoff, shared by the S3 and SFTP clients.

One policy object and one call helper, so both clients retry the same way and every
retry leaves the same WARNING line in the logs (what, attempt, reason, wait; never a
credential: callers describe the operation by host/bucket/path only).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from smartcrop.transfer import TransferError

logger = logging.getLogger("smartcrop.transfer")

T = TypeVar("T")

# Either exception classes that are worth another attempt, or a predicate for the
# cases a class alone cannot decide (an S3 500 and an S3 403 are the same class).
Transient = tuple[type[BaseException], ...] | Callable[[BaseException], bool]

_MAX_REASON_CHARS = 300


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to retry.

    ``attempts`` counts every try, the first included (1 = no retry). The wait before
    retry n (n >= 1) is ``base_delay * 2 ** (n - 1)``, capped at ``max_delay``.
    """

    attempts: int = 4
    base_delay: float = 1.0
    max_delay: float = 30.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("delays must not be negative")

    def delay(self, retry_number: int) -> float:
        """Seconds to wait before retry ``retry_number`` (1 for the first retry)."""
        return min(self.max_delay, self.base_delay * 2.0 ** (retry_number - 1))


DEFAULT_RETRY = RetryPolicy()


def describe_error(exc: BaseException) -> str:
    """A short, log-safe reason: the class name and message, truncated."""
    text = f"{type(exc).__name__}: {exc}".strip()
    if len(text) > _MAX_REASON_CHARS:
        text = text[: _MAX_REASON_CHARS - 3] + "..."
    return text


def _is_transient(exc: BaseException, transient: Transient) -> bool:
    if isinstance(transient, tuple):
        return isinstance(exc, transient)
    return transient(exc)


def call_with_retry(
    operation: Callable[[], T],
    *,
    what: str,
    transient: Transient,
    policy: RetryPolicy = DEFAULT_RETRY,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``operation`` until it succeeds, retrying transient failures.

    ``what`` names the operation for logs and errors, e.g. ``"download s3://b/k"``; it
    must not contain a secret. Every failure ends as a :class:`TransferError` (the
    original exception chained as ``__cause__``) so callers handle one type; a
    ``TransferError`` raised by ``operation`` itself and judged permanent passes through
    unchanged, keeping its own wording.
    """
    for attempt in range(1, policy.attempts + 1):
        try:
            return operation()
        except Exception as exc:
            reason = describe_error(exc)
            if not _is_transient(exc, transient):
                if isinstance(exc, TransferError):
                    raise
                raise TransferError(f"{what} failed: {reason}") from exc
            if attempt == policy.attempts:
                raise TransferError(
                    f"{what} failed after {attempt} attempt(s): {reason}"
                ) from exc
            wait = policy.delay(attempt)
            logger.warning(
                "%s failed (attempt %d of %d): %s; retrying in %.2fs",
                what,
                attempt,
                policy.attempts,
                reason,
                wait,
            )
            sleep(wait)
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover
