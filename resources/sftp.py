"""SFTP as a Dagster resource: the endpoint of each watched SFTP folder.

The settings say which folders are watched and how to log in to each
(``filewatcher.sftp_sources``); the domain asks this resource for the endpoint of a
source (``endpoint_for``) and the transfer layer connects to it. A test or a
deployment swaps SFTP by resource (a subclass that records, another server, a
known_hosts file for every host), not by settings. Passwords are never resource
config (the UI shows it): they come from the settings at call time.
"""

from __future__ import annotations

import dataclasses

from dagster import ConfigurableResource
from pydantic import Field

from smartcrop.ingestion.acquire import sftp_endpoint_for
from smartcrop.settings import SftpSource
from smartcrop.transfer.sftp import SftpEndpoint


class SftpResource(ConfigurableResource["SftpResource"]):
    """Endpoints of the watched SFTP folders: the settings' own, with the fields set
    here applied to every one."""

    timeout: float = Field(
        default=30.0, description="Seconds to connect, log in and wait for data."
    )
    known_hosts: str | None = Field(
        default=None,
        description="An OpenSSH known_hosts file for the hosts whose source names "
        "none (unset: an unknown host key is accepted and logged).",
    )

    def endpoint_for(self, source: SftpSource) -> SftpEndpoint:
        return self.adjust(sftp_endpoint_for(source))

    def adjust(self, endpoint: SftpEndpoint) -> SftpEndpoint:
        """An endpoint the settings describe, with this resource's fields applied
        (the watched folders' and the exports' delivery server alike)."""
        return dataclasses.replace(
            endpoint,
            timeout=self.timeout,
            known_hosts=endpoint.known_hosts or self.known_hosts,
        )
