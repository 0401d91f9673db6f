"""Server-side request forgery: the fetch policy itself (smartcrop/netfetch.py).

A real loopback server records every request it receives; image URLs point at it by
IP, by a name that resolves to 127.0.0.1, as ``[::1]``, ``0.0.0.0`` and a decimal IP,
plus the cloud metadata address and redirects from an allowed host. Each is refused
before any request with its reason; with its ``host:port`` in ``allowed_hosts`` the
fetch works, at the checked address (https too, the name verified); the allowed hosts
are checked when the settings load and ``smartcrop up`` adds the API's own address."""

from __future__ import annotations

import datetime
import re
import ssl

import httpx
import pytest

from smartcrop import netfetch
from smartcrop.errors import FetchRefused
from smartcrop.netfetch import FetchPolicy, check
from smartcrop.suggest.fetch import fetch_image
from smartcrop.workflow.sources import SourceImageError, read_image_size
from smartcrop_cli.services import ALLOWED_HOSTS_ENV, allow_own_api
from tests.security.hostile_urls import METADATA, hostile
from tests.support.image_server import PNG_SIZE, SMALL_PNG, redirect, serve

# --- the policy itself -------------------------------------------------------------


def test_every_hostile_url_is_refused_before_any_request(recorder) -> None:
    policy = FetchPolicy()
    for name, (url, words) in hostile(recorder).items():
        with pytest.raises(FetchRefused, match="fetch policy refuses") as refused:
            check(url, policy)
        assert words in refused.value.message, name
        fetched = fetch_image(url, policy=policy)
        assert not fetched.ok and words in (fetched.reason or ""), name
        with pytest.raises(SourceImageError, match="fetch policy refuses"):
            read_image_size(url, policy=policy)
    for url in ("file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1:70/"):
        assert fetch_image(url).reason == "its URL is not http(s)"
    for private in (
        "http://10.0.0.5/admin",
        "http://192.168.1.1/",
        "http://[fe80::1]/",
    ):
        with pytest.raises(FetchRefused):
            check(private, policy)
    assert recorder.received == []


def test_an_allowed_host_is_fetched_at_the_checked_address(recorder) -> None:
    policy = FetchPolicy.of([recorder.host_port])
    fetched = fetch_image(f"{recorder.base}/ok.png", policy=policy)
    assert fetched.ok and fetched.content_type == "image/png"
    assert read_image_size(f"{recorder.base}/ok.png", policy=policy) == PNG_SIZE
    # Allowed by name: the connection goes to the address checked, and the server
    # still sees the name it was asked for.
    by_name = FetchPolicy.of([f"localhost:{recorder.port}"])
    assert fetch_image(f"http://localhost:{recorder.port}/n.png", policy=by_name).ok
    # Another port of an allowed host:port entry is not allowed; a bare host is.
    with pytest.raises(FetchRefused):
        check(f"http://127.0.0.1:{recorder.port + 1}/", policy)
    check(f"http://127.0.0.1:{recorder.port + 1}/", FetchPolicy.of(["127.0.0.1"]))
    check(METADATA, FetchPolicy(allow_private_networks=True))
    assert [(r.path, r.host) for r in recorder.received] == [
        ("/ok.png", recorder.host_port),
        ("/ok.png", recorder.host_port),
        ("/n.png", f"localhost:{recorder.port}"),
    ]


def test_each_redirect_is_checked_and_at_most_three_are_followed(recorder) -> None:
    hops = {
        "/to-loopback": redirect(f"{recorder.base}/secret"),
        "/to-metadata": redirect(METADATA),
        "/to-decimal": redirect(f"http://2130706433:{recorder.port}/secret"),
        "/1": redirect("/2"),
        "/2": redirect("/3"),
        "/3": redirect("/4"),
        "/4": redirect("/image.png"),
    }
    with serve(hops, default=SMALL_PNG) as front:
        # The front server is allowed; the recorder (another port) is not.
        policy = FetchPolicy.of([front.host_port])
        for path, words in (
            ("/to-loopback", "127.0.0.1 is a loopback"),
            ("/to-metadata", "169.254.169.254 is a link-local"),
            ("/to-decimal", "2130706433 (127.0.0.1) is a loopback"),
        ):
            fetched = fetch_image(f"{front.base}{path}", policy=policy)
            assert not fetched.ok and words in (fetched.reason or ""), path
            with pytest.raises(SourceImageError, match=re.escape(words)):
                read_image_size(f"{front.base}{path}", policy=policy)
        assert recorder.received == []
        before = len(front.received)
        too_many = fetch_image(f"{front.base}/1", policy=policy)
        assert too_many.reason == "the server redirected too many times"
        # Three redirects followed; the fourth is not.
        assert [r.path for r in front.received[before:]] == ["/1", "/2", "/3", "/4"]
        assert fetch_image(f"{front.base}/2", policy=policy).ok


def _certificate(tmp_path, name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A CA and a certificate it signed for DNS name ``name`` only (no IP address):
    (the server's context, a client context trusting only that CA)."""
    from cryptography import x509  # noqa: PLC0415
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
    from cryptography.x509.oid import NameOID  # noqa: PLC0415

    now = datetime.datetime.now(datetime.UTC)

    def build(subject: str, key, issuer: str, signer, *, ca: bool, san=None):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), True)
        )
        if san:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(san)]), False
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = build("test CA", ca_key, "test CA", ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = build(name, key, "test CA", ca_key, ca=False, san=name)
    pem = serialization.Encoding.PEM
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(pem))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            pem,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    client = ssl.create_default_context(cadata=ca.public_bytes(pem).decode())
    return server, client


def _status(url: str, policy: FetchPolicy, client: httpx.Client) -> int:
    with netfetch.open_stream(url, policy, client=client) as response:
        return response.status_code


def test_https_connects_to_the_checked_address_and_verifies_the_name(
    tmp_path,
) -> None:
    server_tls, client_tls = _certificate(tmp_path, "localhost")
    names: list[str | None] = []
    server_tls.sni_callback = lambda sock, name, ctx: names.append(name)
    with serve(default=SMALL_PNG, tls=server_tls) as server:
        url = f"https://localhost:{server.port}/tls.png"
        policy = FetchPolicy.of([f"localhost:{server.port}"])
        # The certificate names localhost only, not 127.0.0.1: verified against the
        # URL's name although the connection goes to the address resolved once.
        with (
            netfetch.make_client(httpx.Timeout(5)) as plain,
            httpx.Client(verify=client_tls, trust_env=False) as client,
        ):
            with netfetch.open_stream(url, policy, client=client) as response:
                assert response.status_code == 200
                assert response.read().startswith(b"\x89PNG")
            # By IP, the name to verify is the IP, which the certificate lacks.
            by_ip = f"https://127.0.0.1:{server.port}/ip.png"
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                _status(by_ip, FetchPolicy.of([server.host_port]), client)
            # The default trust store does not know the test CA.
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                _status(url, policy, plain)
        assert names[0] == "localhost"
        assert [(r.path, r.host) for r in server.received] == [
            ("/tls.png", f"localhost:{server.port}")
        ]


# --- make up's demo ----------------------------------------------------------------


def test_smartcrop_up_allows_the_apis_own_address(settings_for, monkeypatch) -> None:
    settings = settings_for(
        smartcrop_service={"image_fetch": {"allowed_hosts": ["cdn.internal"]}}
    )
    env = allow_own_api(settings, "0.0.0.0", 8000)  # noqa: S104 - a listen address
    assert env == {ALLOWED_HOSTS_ENV: '["cdn.internal", "127.0.0.1:8000"]'}
    monkeypatch.setenv(ALLOWED_HOSTS_ENV, env[ALLOWED_HOSTS_ENV])
    policy = FetchPolicy.from_settings(settings_for())
    assert policy.allows_host("127.0.0.1", 8000)
    assert not policy.allows_host("127.0.0.1", 5432)
    check("http://127.0.0.1:8000/demo-images/astronaut.jpg", policy)


def test_a_malformed_allowed_host_is_a_settings_error(settings_for) -> None:
    from smartcrop.settings import SettingsError

    for entry in ("cdn.internal:99999", "cdn.internal:http", "[::1]x", ""):
        with pytest.raises(SettingsError, match="allowed_hosts"):
            settings_for(smartcrop_service={"image_fetch": {"allowed_hosts": [entry]}})
    good = ["CDN.internal.", "10.0.0.5:8080", "[fd00::5]:443", "fd00::6"]
    policy = FetchPolicy.from_settings(
        settings_for(smartcrop_service={"image_fetch": {"allowed_hosts": good}})
    )
    assert policy.allows_host("cdn.internal", 1234)
    assert policy.allows_host("10.0.0.5", 8080)
    assert not policy.allows_host("10.0.0.5", 80)
    assert policy.allows_host("fd00::5", 443) and policy.allows_host("fd00::6", 80)
