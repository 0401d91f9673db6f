"""What a step of a run reports: its summary, its checks and, when none of its files
could be handled, why it failed.

A run covers one provider file or a sensor's batch of them (a range of partitions);
each step goes through the run's files one at a time. A file that cannot be handled
is set aside with its reason and the others go on; the step fails only when none of
its files could be handled. These are plain values: the Dagster assets turn them into
events (``assets/events.py``), so what a step reports is decided here, once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Literal


class Markdown(str):
    """Metadata text shown as Markdown."""

    __slots__ = ()


@dataclass(frozen=True)
class Json:
    """A metadata value shown as JSON."""

    value: Any


MetaValue = str | int | float | bool | Markdown | Json
Metadata = dict[str, MetaValue]


@dataclass(frozen=True)
class Check:
    """The outcome of a check: ``name`` when the step declares several."""

    passed: bool
    name: str | None = None
    severity: Literal["warn", "error"] = "error"
    metadata: Metadata = field(default_factory=dict)


@dataclass(frozen=True)
class FileFailure:
    """Why one file of a run could not be handled. ``kind`` is the manifest error's
    when the file could not be read at all (it is then quarantined: where it went, or
    "" when there was no file to move)."""

    reason: str
    kind: str | None = None
    quarantined_as: str | None = None


def bullets(lines: list[str]) -> Markdown:
    """A Markdown list, or "none"."""
    return Markdown("\n".join(f"- {line}" for line in lines) or "none")


@dataclass
class StepResult:
    """The files of one run through one step; subclasses add what each step did."""

    keys: list[str]
    failed: dict[str, FileFailure] = field(default_factory=dict)

    @property
    def single(self) -> bool:
        return len(self.keys) == 1

    @property
    def all_failed(self) -> bool:
        """No file of the run could be handled: the step fails (never retried)."""
        return bool(self.failed) and len(self.failed) == len(self.keys)

    def failure(self) -> tuple[str, Metadata]:
        """Why the step failed: a run of one unreadable file says so with the
        manifest error's kind and where the file was quarantined; otherwise each
        file's reason."""
        if self.single:
            only = self.failed[self.keys[0]]
            if only.kind is not None:
                return only.reason, {
                    "reason": only.kind,
                    "quarantined_as": only.quarantined_as or "",
                }
        text = "; ".join(f"{key}: {f.reason}" for key, f in self.failed.items())
        return text, {}

    def failures_md(self) -> Markdown:
        return bullets([f"{key}: {f.reason}" for key, f in self.failed.items()])

    def log_failures(self, log: logging.Logger) -> None:
        """Files set aside while others went on (an all-failed step raises instead)."""
        if self.all_failed:
            return
        for key, failure in self.failed.items():
            log.error(f"{key}: {failure.reason}")

    def summary(self) -> Metadata:
        raise NotImplementedError

    def checks(self) -> list[Check]:
        return []
