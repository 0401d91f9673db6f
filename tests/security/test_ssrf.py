"""Server-side request forgery: every server-side fetch of a provider URL goes through
the fetch policy (smartcrop/netfetch.py).

A real loopback server records every request it receives; image URLs point at it by
IP, by a name that resolves to 127.0.0.1, as ``[::1]``, ``0.0.0.0`` and a decimal IP,
plus the cloud metadata address and a redirect from an allowed host. With default
settings the suggestion asset, ``/image/SuggestCrops``, ``/image/SourceImage`` and the
claim-time size read send it nothing, and each refusal is recorded or answered 400
with its reason; with its ``host:port`` in ``allowed_hosts`` the same fetches work.
"""

from __future__ import annotations

import datetime
import os
import re
import ssl
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from smartcrop import netfetch
from smartcrop.errors import FetchRefused, InvalidInput
from smartcrop.netfetch import FetchPolicy, check
from smartcrop.suggest.fetch import fetch_image
from smartcrop.workflow.claims import claim_operator_programme
from smartcrop.workflow.sources import SourceImageError, read_image_size
from smartcrop_cli.services import ALLOWED_HOSTS_ENV, allow_own_api
from tests.support.image_server import (
    PNG_SIZE,
    SMALL_PNG,
    ImageServer,
    redirect,
    serve,
)
from tests.support.manifest_samples import query
from tests.support.work_items import add_item, add_user, engine_for, sessions
from tests.support.workbooks import PRESS_HEADERS, press_row, write_xlsx

METADATA = "http://169.254.169.254/latest/meta-data/"


def hostile(server: ImageServer) -> dict[str, tuple[str, str]]:
    """name -> (URL, words of the refusal)."""
    port = server.port
    return {
        "ip": (f"http://127.0.0.1:{port}/ip.png", "127.0.0.1 is a loopback"),
        "name": (
            f"http://localhost:{port}/name.png",
            "localhost (127.0.0.1) is a loopback",
        ),
        "metadata": (METADATA, "169.254.169.254 is a link-local"),
        "ipv6": (f"http://[::1]:{port}/v6.png", "::1 is a loopback"),
        "unspecified": (f"http://0.0.0.0:{port}/any.png", "0.0.0.0 is an unspecified"),
        "decimal": (
            f"http://2130706433:{port}/decimal.png",
            "2130706433 (127.0.0.1) is a loopback",
        ),
        "mapped": (
            f"http://[::ffff:127.0.0.1]:{port}/mapped.png",
            "is a loopback",
        ),
    }


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    with engine_for(db_url) as engine:
        yield engine


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


# --- the suggestion asset ----------------------------------------------------------


def _ingest_manifest(pipeline, name: str, urls: list[str]) -> str:
    path = write_xlsx(
        pipeline.staging / name,
        [
            PRESS_HEADERS,
            *(
                press_row(f"SH00000000{n:04d}", Image_URL=url)
                for n, url in enumerate(urls, 1)
            ),
        ],
    )
    past = time.time() - 10
    os.utime(path, (past, past))
    result = pipeline.tick("local_staging_sensor")
    runs = pipeline.run(result)
    assert runs and all(run.success for run in runs)
    return result.run_requests[0].partition_key


def _suggest(pipeline, key: str) -> dict[str, tuple]:
    job = pipeline.definitions().resolve_job_def("suggest_crops")
    run = job.execute_in_process(
        partition_key=key, instance=pipeline.instance, raise_on_error=False
    )
    assert run.success
    rows = query(
        pipeline.db_url,
        "SELECT p.imageurl, f.status, f.reason FROM smartcrop_imagefetch f"
        " JOIN smartcrop_programimage p ON p.id = f.programimageid",
    )
    return {url: (status, reason) for url, status, reason in rows}


def test_the_suggestion_asset_records_each_refusal_and_sends_nothing(
    pipeline, recorder
) -> None:
    cases = hostile(recorder)
    with serve(
        {"/hop": redirect(f"{recorder.base}/secret")}, default=SMALL_PNG
    ) as front:
        pipeline.configure(
            smartcrop_service={"image_fetch": {"allowed_hosts": [front.host_port]}}
        )
        urls = [url for url, _ in cases.values()] + [f"{front.base}/hop"]
        key = _ingest_manifest(pipeline, "NBCU_SSRF.xlsx", urls)
        fetches = _suggest(pipeline, key)
    assert recorder.received == []
    for name, (url, words) in cases.items():
        status, reason = fetches[url]
        assert status == "failed" and words in reason, (name, reason)
        assert "fetch policy refuses" in reason
    status, reason = fetches[f"{front.base}/hop"]
    assert status == "failed" and "127.0.0.1 is a loopback" in reason


def test_the_suggestion_asset_fetches_an_allowed_host(pipeline, recorder) -> None:
    pipeline.configure(
        smartcrop_service={"image_fetch": {"allowed_hosts": [recorder.host_port]}}
    )
    url = f"{recorder.base}/allowed.png"
    key = _ingest_manifest(pipeline, "NBCU_ALLOWED.xlsx", [url])
    assert _suggest(pipeline, key) == {url: ("ok", None)}
    assert [r.path for r in recorder.received] == ["/allowed.png"]


# --- the API -----------------------------------------------------------------------


def _allowed_client(pipeline, db_url: str, allowed: list[str]) -> TestClient:
    pipeline.configure(smartcrop_service={"image_fetch": {"allowed_hosts": allowed}})
    return TestClient(create_app(pipeline.settings, db_url))


def test_the_api_refuses_each_hostile_url_with_400_and_sends_nothing(
    client, token_for, engine: Engine, recorder, db_url: str
) -> None:
    _, headers = token_for("operator")
    for n, (name, (url, words)) in enumerate(hostile(recorder).items(), 1):
        program = f"SH0000000099{n:02d}"
        image = add_item(engine, program, url=url)
        where = f"programId={program}&imageId={image}"
        suggested = client.get(f"/image/SuggestCrops?{where}", headers=headers)
        assert suggested.status_code == 400, (name, suggested.text)
        body = suggested.json()
        assert body["IsSuccess"] is False and words in body["Message"], name
        source = client.get(f"/image/SourceImage?{where}", headers=headers)
        assert source.status_code == 400, name
        assert words in source.json()["Message"], name
        recorded = query(
            db_url,
            "SELECT status, reason FROM smartcrop_imagefetch WHERE programimageid = %s",
            (image,),
        )
        assert recorded[0][0] == "failed" and words in recorded[0][1], name
    assert recorder.received == []


def test_the_api_fetches_an_allowed_host(
    pipeline, token_for, engine: Engine, recorder, db_url: str
) -> None:
    _, headers = token_for("operator")
    image = add_item(engine, "SH000000009801", url=f"{recorder.base}/a.png")
    where = f"programId=SH000000009801&imageId={image}"
    with _allowed_client(pipeline, db_url, [recorder.host_port]) as allowed:
        suggested = allowed.get(f"/image/SuggestCrops?{where}", headers=headers)
        assert suggested.status_code == 200, suggested.text
        assert suggested.json()["Data"]["Fetch"]["Status"] == "ok"
        source = allowed.get(f"/image/SourceImage?{where}", headers=headers)
        assert source.status_code == 200
        assert source.content.startswith(b"\x89PNG")
    assert [r.path for r in recorder.received] == ["/a.png", "/a.png"]


def test_the_claim_time_size_read_refuses_and_then_allows(
    client, pipeline, token_for, engine: Engine, recorder, db_url: str
) -> None:
    user, headers = token_for("operator")
    image = add_item(
        engine, "SH000000009701", url=f"{recorder.base}/s.png", width=None, height=None
    )
    claim = f"/image/GetImageInfo?providerName=NBCU&user={user}"
    refused = client.get(claim, headers=headers)
    assert refused.status_code == 400
    message = refused.json()["Message"]
    assert f"image {image} of programme SH000000009701" in message
    assert "127.0.0.1 is a loopback" in message
    assert recorder.received == []
    with _allowed_client(pipeline, db_url, [recorder.host_port]) as allowed:
        claimed = allowed.get(claim, headers=headers)
    assert claimed.status_code == 200, claimed.text
    sizes = {
        i["ImageId"]: (i["Width"], i["Height"])
        for i in claimed.json()["Data"]["Images"]
    }
    assert sizes[image] == PNG_SIZE
    assert [r.path for r in recorder.received] == ["/s.png"]


def test_the_claim_function_defaults_to_refusing(engine: Engine, recorder) -> None:
    user = add_user(engine)
    add_item(engine, "SH1", url=METADATA, width=None, height=None)
    with sessions(engine)() as session, pytest.raises(InvalidInput) as refused:
        claim_operator_programme(
            session, "NBCU", user, actor_id=user, lock_timeout_minutes=30
        )
    assert "169.254.169.254 is a link-local" in refused.value.message


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
