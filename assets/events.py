"""A domain step's answer as Dagster events: the one translation every asset uses.

The domain (``smartcrop.ingestion.outcome``) reports plain values: a summary, checks,
and why a step failed when none of its files could be handled. Here they become a
``MaterializeResult``, ``AssetCheckResult``s and a ``Failure`` (never retried: the
same files would fail the same way).
"""

from collections.abc import Iterator
from typing import Any, Protocol

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    Failure,
    MaterializeResult,
    MetadataValue,
)

from smartcrop.ingestion.outcome import Check, Json, Markdown, Metadata

_SEVERITY = {"warn": AssetCheckSeverity.WARN, "error": AssetCheckSeverity.ERROR}


class Step(Protocol):
    """What a domain step answers (``smartcrop.ingestion.outcome.StepResult``)."""

    @property
    def all_failed(self) -> bool: ...

    def failure(self) -> tuple[str, Metadata]: ...

    def summary(self) -> Metadata: ...

    def checks(self) -> list[Check]: ...


def metadata(values: Metadata) -> dict[str, Any]:
    return {
        key: (
            MetadataValue.md(value)
            if isinstance(value, Markdown)
            else MetadataValue.json(value.value)
            if isinstance(value, Json)
            else value
        )
        for key, value in values.items()
    }


def check_result(check: Check) -> AssetCheckResult:
    return AssetCheckResult(
        check_name=check.name,
        passed=check.passed,
        severity=_SEVERITY[check.severity],
        metadata=metadata(check.metadata),
    )


def materialized(step: Step) -> MaterializeResult[None]:
    """The step's materialisation; a ``Failure`` when none of its files could be
    handled."""
    if step.all_failed:
        text, details = step.failure()
        raise Failure(text, metadata=metadata(details), allow_retries=False)
    return MaterializeResult(metadata=metadata(step.summary()))


def step_events(step: Step) -> Iterator[MaterializeResult[None] | AssetCheckResult]:
    """The materialisation, then each of the step's checks."""
    yield materialized(step)
    for check in step.checks():
        yield check_result(check)
