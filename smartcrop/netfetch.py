"""The fetch policy: the one way SmartCrop fetches a URL that a provider gave it.

Image URLs come from provider manifests, and anyone who can drop a file into a watched
folder or bucket writes them. Without a policy, a row naming
``http://169.254.169.254/latest/meta-data/`` or ``http://127.0.0.1:5432/`` makes the
API or a pipeline run probe the internal network from inside it. So every server-side
fetch of such a URL (crop suggestions, ``/image/SourceImage``, the size read at claim
time) goes through ``open_stream``:

- the scheme is ``http`` or ``https``;
- the host is resolved once (``getaddrinfo``: what the system's resolver makes of
  ``2130706433``, ``0x7f.1`` or ``127.1`` is what is checked) and every address it
  resolves to is checked: loopback, private, link-local (cloud metadata), multicast,
  reserved, unspecified, shared (CGNAT) and their IPv6 forms, IPv4-mapped, 6to4 and
  NAT64 addresses included, are refused unless the host (or ``host:port``) is in
  ``smartcrop_service.image_fetch.allowed_hosts`` or ``allow_private_networks`` is true;
- the connection goes to the checked address (the URL's host replaced by it, with the
  original ``Host`` header and, for https, the original name as TLS SNI and as the
  name the certificate is verified against), so a second resolution cannot hand back
  another address (DNS rebinding);
- redirects are followed here, at most ``MAX_REDIRECTS``, each checked the same way.

A refusal raises ``FetchRefused`` (an ``InvalidInput``: 400 from the API) before any
connection is opened.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx

from smartcrop.errors import FetchRefused

if TYPE_CHECKING:
    from smartcrop.settings import ImageFetchConfig, Settings

MAX_REDIRECTS = 3
_SCHEMES = ("http", "https")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_REDIRECTS = (301, 302, 303, 307, 308)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_allowed_host(text: str) -> tuple[str, int | None]:
    """An ``allowed_hosts`` entry as (host, port or None for any port).

    ``host``, ``host:port``, an IPv4 address, a bare IPv6 address or ``[v6]:port``;
    raises ``ValueError`` for anything else (a port that is not 1 to 65535)."""
    text = text.strip().lower()
    port_text: str | None = None
    if text.startswith("["):  # [v6] or [v6]:port
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"{text!r} is not host, host:port or [IPv6]:port")
        port_text = rest[1:] if rest else None
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host = text  # a name, an IPv4 address or a bare IPv6 address
    host = host.rstrip(".")
    if not host:
        raise ValueError(f"{text!r} has no host")
    if port_text is None:
        return host, None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"{text!r} has no valid port (1 to 65535)")
    return host, int(port_text)


@dataclass(frozen=True)
class FetchPolicy:
    """What may be fetched; the default refuses every non-public address."""

    allowed_hosts: frozenset[tuple[str, int | None]] = field(default=frozenset())
    allow_private_networks: bool = False
    max_redirects: int = MAX_REDIRECTS

    @classmethod
    def of(
        cls,
        allowed_hosts: list[str] | tuple[str, ...] = (),
        *,
        allow_private_networks: bool = False,
        max_redirects: int = MAX_REDIRECTS,
    ) -> FetchPolicy:
        return cls(
            frozenset(parse_allowed_host(e) for e in allowed_hosts if e.strip()),
            allow_private_networks,
            max_redirects,
        )

    @classmethod
    def from_config(cls, config: ImageFetchConfig) -> FetchPolicy:
        return cls.of(
            config.allowed_hosts, allow_private_networks=config.allow_private_networks
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> FetchPolicy:
        return cls.from_config(settings.smartcrop_service.image_fetch)

    def allows_host(self, host: str, port: int) -> bool:
        host = host.lower().rstrip(".")
        return (host, None) in self.allowed_hosts or (
            host,
            port,
        ) in self.allowed_hosts


def _unwrap(ip: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, NAT64), else itself."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def refusal(ip: IPAddress) -> str | None:
    """Why ``ip`` may not be fetched from by default, or None for a public one."""
    ip = _unwrap(ip)
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address (cloud metadata lives there)"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private:
        return "a private address"
    if ip.is_reserved:
        return "a reserved address"
    if not ip.is_global:
        return "not a public address"
    return None


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect, and what to tell the server."""

    url: httpx.URL
    address: str

    @property
    def connect_url(self) -> httpx.URL:
        return self.url.copy_with(host=self.address)

    @property
    def host_header(self) -> str:
        host = self.url.host
        if ":" in host:
            host = f"[{host}]"
        port = self.url.port
        return host if port is None else f"{host}:{port}"


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise httpx.ConnectError(f"{host} could not be resolved ({exc})") from None
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise httpx.ConnectError(f"{host} could not be resolved")
    return addresses


def check(url: str | httpx.URL, policy: FetchPolicy) -> Target:
    """Resolve ``url``'s host once and check it; raise ``FetchRefused`` if refused."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise FetchRefused(f"its URL {str(url)[:200]!r} is not a valid URL") from None
    if parsed.scheme not in _SCHEMES:
        raise FetchRefused("its URL is not http(s)")
    host = parsed.host
    if not host:
        raise FetchRefused("its URL has no host")
    port = parsed.port or _DEFAULT_PORTS[parsed.scheme]
    addresses = _resolve(host, port)
    if not (policy.allow_private_networks or policy.allows_host(host, port)):
        for ip in addresses:
            why = refusal(ip)
            if why is not None:
                shown = host if host == str(ip) else f"{host} ({ip})"
                raise FetchRefused(
                    f"its host {shown} is {why}, which the fetch policy refuses; "
                    "allow it in smartcrop_service.image_fetch.allowed_hosts"
                )
    return Target(parsed, str(addresses[0]))


def make_client(
    timeout: httpx.Timeout, headers: Mapping[str, str] | None = None
) -> httpx.Client:
    """A client for ``open_stream``: no environment proxies (the connection goes to the
    checked address) and no redirects of its own. Connections are not kept alive: a
    connection is keyed by address, and one opened for one host name (its TLS name)
    must not carry another's request."""
    return httpx.Client(
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
        headers=dict(headers or {}),
        limits=httpx.Limits(max_keepalive_connections=0),
    )


@contextmanager
def open_stream(
    url: str,
    policy: FetchPolicy,
    *,
    client: httpx.Client,
) -> Iterator[httpx.Response]:
    """GET ``url`` under ``policy``, following at most ``policy.max_redirects``
    redirects, each checked; yields the final response, streaming.

    Raises ``FetchRefused`` for a refused URL (before connecting to it),
    ``httpx.TooManyRedirects``, or any other ``httpx.HTTPError``."""
    current: httpx.URL | str = url
    for _ in range(policy.max_redirects + 1):
        target = check(current, policy)
        extensions = {}
        if target.url.scheme == "https" and target.url.host != target.address:
            extensions["sni_hostname"] = target.url.host
        request = client.build_request(
            "GET",
            target.connect_url,
            headers={"Host": target.host_header},
            extensions=extensions,
        )
        response = client.send(request, stream=True, follow_redirects=False)
        location = response.headers.get("location")
        if response.status_code in _REDIRECTS and location:
            response.close()
            try:
                current = target.url.join(location)
            except httpx.InvalidURL:
                raise FetchRefused(
                    f"it redirects to {location[:200]!r}, which is not a valid URL"
                ) from None
            continue
        try:
            yield response
        finally:
            response.close()
        return
    raise httpx.TooManyRedirects(
        f"more than {policy.max_redirects} redirects", request=request
    )
